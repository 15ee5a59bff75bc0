/**
 * `acl edit` against a real `cloudsignal dev` platform, with an editor that is a small
 * script (tests/e2e/acl_edit_editor.ts) and, for the question, a real terminal.
 */

import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { cliEnv, seedSession, startTestPlatform } from "../auth/support/login_flow.ts";
import { runOnTerminal } from "./acl_terminal.ts";

const EDITOR = `${Deno.execPath()} run -A --quiet ${
  new URL("./acl_edit_editor.ts", import.meta.url).pathname
}`;

interface Edit {
  code: number;
  stdout: string;
  stderr: string;
  /** Each file the editor was given, in order. */
  opened: string[];
  /** The file an unpushed edit was kept in, when one was. */
  kept: string | null;
}

async function withEditing(
  run: (
    edit: (plan: string[], extra?: string[]) => Promise<Edit>,
    env: Record<string, string>,
  ) => Promise<void>,
) {
  const t = await startTestPlatform();
  const dir = await Deno.makeTempDir({ prefix: "cloudsignal-edit-test-" });
  try {
    await seedSession(t.platform, `${dir}/home`);
    const env = cliEnv(`${dir}/home`, t.platform.apiUrl, { EDITOR });
    let runs = 0;
    await run(async (plan, extra = ["--yes"]) => {
      const log = `${dir}/log-${runs++}`;
      const result = await runCli(["acl", "edit", ...extra], {
        env: { ...env, EDIT_LOG: log, EDIT_PLAN: JSON.stringify(plan) },
      });
      const opened = (await Deno.readTextFile(log).catch(() => "")).split("\u0000").slice(0, -1);
      const kept = result.stderr.match(/Your edit is kept in (\S+);/)?.[1] ?? null;
      return { ...result, opened, kept };
    }, env);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function liveTopics(env: Record<string, string>): Promise<string[]> {
  const policy = JSON.parse((await runCli(["acl", "get"], { env })).stdout);
  return policy.rules.map((rule: { topic: string }) => rule.topic);
}

Deno.test("acl edit: the live policy with its revision opens; a save is checked, shown and pushed", () =>
  withEditing(async (edit, env) => {
    const done = await edit(["add:edited/#"]);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.opened.length, 1);
    assert.match(done.opened[0], /^# Edit the policy below/);
    assert.match(done.opened[0], /\n {2}"\$revision": 1,\n/);
    assert.match(
      done.stdout,
      /Changes to the policy of Development, revision 1:\n {2}\+ rules\[0\]/,
    );
    assert.match(done.stdout, /Updated the policy of Development: revision 2\./);
    assert.equal(done.kept, null, "nothing left behind");
    assert.deepEqual(await liveTopics(env), ["edited/#"]);
  }));

Deno.test("acl edit: a save with errors reopens with them at the top, at the lines the file shows", () =>
  withEditing(async (edit, env) => {
    const done = await edit(["break", "fix"]);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.opened.length, 2);
    const reopened = done.opened[1];
    assert.match(
      reopened,
      /^# The last save was not pushed\. Fix what follows, then save again:$/m,
    );
    const problem = reopened.match(
      /^# {3}error: rules\[0\] - unknown field "acton" \(did you mean "action"\?\) \(line (\d+), column (\d+)\)$/m,
    );
    assert.ok(problem, reopened);
    const line = reopened.split("\n")[Number(problem[1]) - 1];
    assert.equal(line.slice(Number(problem[2]) - 1, Number(problem[2]) + 6), '"acton"', line);
    assert.match(done.stderr, /has problems; reopening it with them at the top/);
    assert.deepEqual(await liveTopics(env), ["broken/#"]);
  }));

Deno.test("acl edit: the same problems saved again, an editor failure, no change, an empty file", () =>
  withEditing(async (edit, env) => {
    const stuck = await edit(["break", "same"]);
    assert.equal(stuck.code, 1);
    assert.match(stuck.stderr, /saved again with the same problems: nothing was sent/);
    assert.ok(stuck.kept);
    assert.match(await Deno.readTextFile(stuck.kept), /"acton"/, "the edit is kept");

    const failed = await edit(["fail"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /The editor exited with status 3: nothing was sent\./);

    const unchanged = await edit(["same"]);
    assert.equal(unchanged.code, 0);
    assert.match(unchanged.stderr, /^No changes: nothing was sent\.\n$/);
    const emptied = await edit(["empty"]);
    assert.equal(emptied.code, 0);
    assert.match(emptied.stderr, /Edit cancelled \(the file was emptied\)/);
    assert.deepEqual(await liveTopics(env), []);
  }));

Deno.test("acl edit: a stale base is refused with nothing written, and the edit kept to merge", () =>
  withEditing(async (edit, env) => {
    assert.equal((await edit(["add:first/#"])).code, 0);
    const stale = await edit(["base:1,add:second/#"]);
    assert.equal(stale.code, 1);
    assert.match(
      stale.stderr,
      /Error: the policy changed since revision 1, which .* is based on: it is now revision 2; nothing was written/,
    );
    assert.ok(stale.kept);
    assert.match(stale.stderr, new RegExp(`cloudsignal acl update ${stale.kept}`));
    assert.deepEqual(await liveTopics(env), ["first/#"]);
  }));

Deno.test("acl edit on a terminal: the changes, the question, and the answer", () =>
  withEditing(async (_edit, env) => {
    const dir = await Deno.makeTempDir();
    try {
      const declined = await runOnTerminal(["acl", "edit"], {
        ...env,
        EDIT_LOG: `${dir}/a`,
        EDIT_PLAN: JSON.stringify(["add:typed/#"]),
      }, "n\n");
      assert.equal(declined.code, 1, declined.output);
      assert.match(declined.output, /\+ rules\[0\] \{"action":"sub","topic":"typed\/#"\}/);
      assert.match(declined.output, /Update the policy of Development\? \[y\/N\] /);
      assert.match(declined.output, /Nothing was sent\.\n/);
      assert.match(declined.output, /Your edit is kept in /);
      const accepted = await runOnTerminal(["acl", "edit"], {
        ...env,
        EDIT_LOG: `${dir}/b`,
        EDIT_PLAN: JSON.stringify(["add:typed/#"]),
      }, "y\n");
      assert.equal(accepted.code, 0, accepted.output);
      assert.match(accepted.output, /Updated the policy of Development: revision 2\./);
      assert.deepEqual(await liveTopics(env), ["typed/#"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("acl edit: without a terminal and without VISUAL or EDITOR it refuses before fetching", async () => {
  const result = await runCli(["acl", "edit"], {
    env: { CLOUDSIGNAL_TOKEN: "not-used", CLOUDSIGNAL_API_URL: "http://127.0.0.1:9" },
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /acl edit needs an editor: there is no terminal to run vi in/);
  assert.doesNotMatch(result.stderr, /cannot reach/);
});

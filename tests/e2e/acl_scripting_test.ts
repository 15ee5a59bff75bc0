/**
 * Scripts and CI against a real `cloudsignal dev` platform: `--json` on every command that
 * reports something, one rule for formatted or compact JSON, `acl diff` exit codes, revision
 * paging, the server's findings before a write, the API's size limit, long diffs, users.
 */

import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import { cliEnv, seedSession, startTestPlatform } from "../auth/support/login_flow.ts";
import type { TestPlatform } from "../auth/support/login_flow.ts";
import { runOnTerminal } from "./acl_terminal.ts";
import { withFakeApi } from "./fake_api.ts";

type Env = Record<string, string>;

async function withLogin(run: (t: TestPlatform, env: Env, dir: string) => Promise<void>) {
  const t = await startTestPlatform();
  const dir = await Deno.makeTempDir({ prefix: "cloudsignal-scripting-" });
  try {
    await seedSession(t.platform, `${dir}/home`);
    await run(t, cliEnv(`${dir}/home`, t.platform.apiUrl), dir);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A policy with `$revision`, rules for `topics`, and no tests. */
function policyFile(revision: number, topics: string[], extra: object = {}): string {
  return `${
    JSON.stringify(
      {
        $revision: revision,
        version: "2.2",
        default: "deny",
        rules: topics.map((topic) => ({ topic, action: "pub" })),
        ...extra,
      },
      null,
      2,
    )
  }\n`;
}

async function ok(args: string[], env: Env) {
  const result = await runCli(args, { env });
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result;
}

/** The one JSON rule when piped: a single line that parses. */
function oneLine(stdout: string): Record<string, unknown> {
  assert.equal(stdout.split("\n").length, 2, `one line of JSON:\n${stdout}`);
  assert.ok(stdout.endsWith("\n"));
  return JSON.parse(stdout);
}

function keys(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

Deno.test("--json on every command that reports something: one documented shape, one line when piped", () =>
  withLogin(async (t, env, dir) => {
    const user = t.platform.user.username;
    const file = `${dir}/p.json`;
    await Deno.writeTextFile(file, policyFile(1, ["a"]));

    const get = oneLine((await ok(["acl", "get", "--json"], env)).stdout);
    assert.deepEqual(keys(get), [
      "base_revision",
      "fetched_at",
      "live",
      "organization",
      "output",
      "policy",
      "revision",
    ]);
    assert.equal((get.policy as Record<string, unknown>).$revision, 1);
    assert.equal(get.revision, 1);

    const dry = oneLine((await ok(["acl", "update", file, "--dry-run", "--json"], env)).stdout);
    assert.deepEqual([dry.dry_run, dry.changed, dry.revision], [true, true, null]);
    const pushJson = [
      "base_revision",
      "changed",
      "diff",
      "dry_run",
      "file",
      "file_revision",
      "findings",
      "live_revision",
      "organization",
      "revision",
      "test_changes",
      "warnings",
    ];
    assert.deepEqual(keys(dry), pushJson);
    const pushed = oneLine((await ok(["acl", "update", file, "--yes", "--json"], env)).stdout);
    assert.deepEqual(keys(pushed), pushJson);
    assert.deepEqual([pushed.revision, pushed.base_revision, pushed.file_revision], [
      2,
      1,
      "recorded",
    ]);

    const diff = oneLine((await ok(["acl", "diff", file, "--json"], env)).stdout);
    assert.deepEqual(keys(diff), [
      "against",
      "base_revision",
      "diff",
      "file",
      "identical",
      "test_changes",
    ]);
    assert.equal(diff.identical, true);

    const rollback = oneLine((await ok(["acl", "rollback", "1", "--yes", "--json"], env)).stdout);
    assert.deepEqual(keys(rollback), pushJson);
    assert.equal(rollback.file_revision, null, "no file to record in");

    const revisions = oneLine((await ok(["acl", "revisions", "--json"], env)).stdout);
    assert.deepEqual(keys(revisions), ["current_revision", "next_before", "revisions"]);

    const init = oneLine(
      (await ok(["acl", "init", "--preset", "blank", "-o", `${dir}/new.json`, "--json"], env))
        .stdout,
    );
    assert.deepEqual(keys(init), ["counts", "file", "preset"]);
    const refused = await runCli(["acl", "init", "--preset", "blank", "-o", "-", "--json"], {
      env,
    });
    assert.equal(refused.code, 2);

    for (const args of [["acl", "validate", file], ["acl", "test", file]]) {
      oneLine((await ok([...args, "--json"], env)).stdout);
    }
    oneLine(
      (await ok(
        ["acl", "simulate", "--username", "x", "--action", "pub", "--topic", "a", "--json"],
        env,
      ))
        .stdout,
    );
    const users = oneLine((await ok(["user", "list", "--json"], env)).stdout);
    assert.deepEqual(keys((users.users as unknown[])[0]), ["email", "id", "username"]);
    for (
      const args of [
        ["user", "claims", "set", user, "--key", "team", "--value", "red", "--json"],
        ["user", "claims", "show", user, "--json"],
        ["user", "claims", "unset", user, "--key", "team", "--json"],
      ]
    ) {
      assert.deepEqual(keys(oneLine((await ok(args, env)).stdout)), [
        "claims",
        "user_id",
        "username",
      ]);
    }
  }));

Deno.test("the same JSON is formatted on a terminal", () =>
  withLogin(async (t, env) => {
    for (
      const args of [
        ["acl", "get"],
        ["acl", "get", "--json"],
        ["acl", "revisions", "--json"],
        ["user", "list", "--json"],
        ["user", "claims", "show", t.platform.user.username, "--json"],
        ["whoami", "--json"],
        ["auth", "status", "--json"],
      ]
    ) {
      const shown = await runOnTerminal(args, env);
      assert.equal(shown.code, 0, shown.output);
      assert.match(shown.output, /^\{\n {2}"/, `${args.join(" ")} is formatted:\n${shown.output}`);
    }
    const compact = await runOnTerminal(["acl", "get", "--compact"], env);
    assert.match(compact.output, /^\{"\$schema":/);
  }));

Deno.test("acl diff: exit 0 when equal, 1 when different, against the live policy or a revision", () =>
  withLogin(async (_t, env, dir) => {
    const file = `${dir}/p.json`;
    await ok(["acl", "get", "-o", file], env);
    const same = await runCli(["acl", "diff", file], { env });
    assert.equal(same.code, 0, same.stderr);
    assert.match(
      same.stdout,
      /^No differences: .*p\.json is revision 1 \(live\) of Development\.\n$/,
    );

    await Deno.writeTextFile(file, policyFile(1, ["a", "b"]));
    const different = await runCli(["acl", "diff", file], { env });
    assert.equal(different.code, 1);
    assert.match(different.stdout, /against revision 1 \(live\) of Development:\n/);
    assert.match(different.stdout, /\+ rules\[1\] \{"action":"pub","topic":"b"\}/);
    await ok(["acl", "update", file, "--yes"], env);
    assert.equal((await runCli(["acl", "diff", file], { env })).code, 0);
    const old = await runCli(["acl", "diff", file, "--revision", "1"], { env });
    assert.equal(old.code, 1);
    assert.match(old.stdout, /against revision 1 of Development:/);

    await Deno.writeTextFile(file, policyFile(1, ["a", "b"]));
    const stale = await runCli(["acl", "diff", file], { env });
    assert.equal(stale.code, 0, "the content is the live one");
    assert.match(stale.stderr, /is based on revision 1; the live policy changed since/);

    await Deno.writeTextFile(file, '{"version": "2.2", "default": "maybe"}');
    const invalid = await runCli(["acl", "diff", file], { env });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /✗ Policy has errors:\n {2}error: default/);
  }));

Deno.test("acl revisions: --limit, --before and a line that says how to see more", () =>
  withLogin(async (_t, env, dir) => {
    const file = `${dir}/p.json`;
    for (const topics of [["a"], ["b"], ["c"]]) {
      const { $revision } = JSON.parse((await ok(["acl", "get"], env)).stdout);
      await Deno.writeTextFile(file, policyFile($revision, topics));
      await ok(["acl", "update", file, "--yes"], env);
    }
    const first = await ok(["acl", "revisions", "--limit", "2"], env);
    const lines = first.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[1], /^4 .* \(live\)$/);
    assert.equal(lines[3], "… more: cloudsignal acl revisions --before 3 --limit 2");
    const next = await ok(["acl", "revisions", "--limit", "2", "--before", "3"], env);
    assert.match(next.stdout, /^REVISION.*\n2 .*\n1 .*\(initial policy\)\n$/);
    assert.doesNotMatch(next.stdout, /more/);
    for (const bad of [["--limit", "0"], ["--limit", "x"], ["--before", "-1"]]) {
      assert.equal((await runCli(["acl", "revisions", ...bad], { env })).code, 2, bad.join(" "));
    }
  }));

Deno.test("acl update shows the server stage's warnings before asking, and the write's findings in --json", () =>
  withLogin(async (_t, env, dir) => {
    const file = `${dir}/p.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify(
        {
          $revision: 1,
          version: "2.2",
          default: "deny",
          rules: [
            { topic: "agents/{$self}/card", action: "pub", binding: "agent_id" },
            { topic: "ops/#", action: "sub", user: "nobody-here" },
          ],
        },
        null,
        2,
      ),
    );
    const dry = await ok(["acl", "update", file, "--dry-run"], env);
    assert.match(
      dry.stdout,
      /warning: rules\[0\] - puts claim "agent_id" into its topic "agents\/\{\$self\}\/card", but no user of this organization has that claim.*\n {4}at .*p\.json:7:\d+\n/,
    );
    assert.match(dry.stdout, /warning: rules\[1\] - user selector "nobody-here" matches no user/);
    assert.match(dry.stdout, /Dry run: nothing was sent\.\n$/);
    const asked = await runOnTerminal(["acl", "update", file], env, "n\n");
    assert.equal(asked.code, 1);
    const warned = asked.output.indexOf("no user of this organization has that claim");
    const question = asked.output.indexOf("Update the policy of Development? [y/N]");
    assert.ok(warned > 0 && question > warned, asked.output);
    assert.match(asked.output, /Nothing was sent\.\n/);
    const pushed = JSON.parse((await ok(["acl", "update", file, "--yes", "--json"], env)).stdout);
    const codes = (pushed.findings as { code: string }[]).map((finding) => finding.code);
    assert.ok(
      codes.includes("claim_never_set") && codes.includes("user_matches_no_user"),
      codes.join(),
    );
  }));

Deno.test("the API's 1 MiB limit: validate and update say the size and the limit, and send nothing", () =>
  withLogin(async (_t, env, dir) => {
    const file = `${dir}/big.json`;
    const rules = Array.from({ length: 20_000 }, (_, k) => ({
      topic: `tenants/t${k % 50}/devices/d${k}/telemetry`,
      action: "pub",
    }));
    await Deno.writeTextFile(
      file,
      JSON.stringify({ $revision: 1, version: "2.2", default: "deny", rules }),
    );
    const validated = await runCli(["acl", "validate", file], { env });
    assert.equal(validated.code, 1);
    assert.match(
      validated.stdout,
      /^✗ Policy has errors:\n {2}error: \(root\) - the policy is 1\.\d MiB \([\d,]+ bytes\) as the API receives it \(compact JSON\), and the API accepts 1 MiB \(1,048,576 bytes\) at most/,
    );
    const local = await runCli(["acl", "validate", file, "--local-only"], { env });
    assert.equal(local.code, 1, "the limit is known offline");
    for (const args of [["--dry-run"], ["--yes"]]) {
      const refused = await runCli(["acl", "update", file, ...args], { env });
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, "", "no 20,000-line diff first");
      assert.match(
        refused.stderr,
        /^Error: Nothing was sent: the policy is 1\.\d MiB .* 1 MiB \(1,048,576 bytes\) at most/,
      );
    }
  }));

Deno.test("a long diff is counted when piped, printed whole with --full, and paged on a terminal", () =>
  withLogin(async (_t, env, dir) => {
    const file = `${dir}/p.json`;
    const topics = Array.from({ length: 300 }, (_, k) => `devices/d${k}/#`);
    await Deno.writeTextFile(file, policyFile(1, topics));
    const counted = await ok(["acl", "update", file, "--dry-run"], env);
    assert.match(counted.stdout, /^ {2}rules: 300 added\n/m);
    assert.match(counted.stdout, /\(30\d lines of changes: --full prints them all\)\n/);
    assert.ok(counted.stdout.split("\n").length < 20);
    const full = await ok(["acl", "update", file, "--dry-run", "--full"], env);
    assert.equal(full.stdout.match(/^ {2}\+ rules/gm)?.length, 300);

    const paged = `${dir}/paged.txt`;
    const shown = await runOnTerminal(
      ["acl", "diff", file],
      { ...env, PAGER: `cat > '${paged}'` },
    );
    assert.equal(shown.code, 1, shown.output);
    assert.equal((await Deno.readTextFile(paged)).match(/^ {2}\+ rules/gm)?.length, 300);
    assert.doesNotMatch(shown.output, /\+ rules/, "the pager showed it, not the terminal");
    const noPager = await runOnTerminal(["acl", "diff", file], { ...env, PAGER: "" });
    assert.match(noPager.output, /rules: 300 added/);
  }));

Deno.test("user list: the organization's users", () =>
  withLogin(async (t, env) => {
    const listed = await ok(["user", "list"], env);
    assert.match(
      listed.stdout,
      new RegExp(
        `^USERNAME +EMAIL +ID\\n${t.platform.user.username} +${t.platform.user.email} +${t.platform.user.id}\\n$`,
      ),
    );
  }));

Deno.test("a server that finds errors this CLI does not: the update shows them and sends nothing", () =>
  withFakeApi(
    (request, path) =>
      request.method === "POST" && path === "/v2/acl/validate"
        ? Response.json({
          error: "invalid_policy",
          message: "the policy has 1 error(s)",
          findings: [{
            severity: "error",
            code: "quota_exceeded",
            path: "rules[0]",
            pointer: "/rules/0",
            message: "your plan allows 0 rules",
            line: 1,
            column: 40,
            stage: "local",
          }],
        }, { status: 422 })
        : null,
    async (api) => {
      const dir = await Deno.makeTempDir();
      try {
        const file = `${dir}/p.json`;
        await Deno.writeTextFile(file, policyFile(7, ["a"]));
        for (const args of [["--yes"], ["--dry-run"]]) {
          const refused = await api.cli(["acl", "update", file, ...args]);
          assert.equal(refused.code, 1, refused.stderr);
          assert.match(
            refused.stdout,
            /error: rules\[0\] - your plan allows 0 rules\n {4}at .*p\.json:6:5\n/,
          );
          assert.match(
            refused.stderr,
            /Nothing was sent: the server found errors in .*p\.json\.\n$/,
          );
        }
        assert.ok(!api.requests.includes("PUT /v2/acl/policy"), api.requests.join());
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  ));

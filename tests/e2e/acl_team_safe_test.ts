/**
 * Team-safe updates against a real `cloudsignal dev` platform: the base an update is checked
 * against belongs to the file being pushed (its `"$revision"`), so no read of the policy,
 * to stdout, another file or through a redirect, ever moves it, and it survives a commit
 * and a checkout elsewhere. Every variant of "A pushes a file based on a revision B has
 * since replaced" ends in a conflict with nothing written.
 */

import assert from "node:assert/strict";
import { MAIN, runCli } from "../support/cli.ts";
import { runProcess } from "../support/process.ts";
import {
  cliEnv,
  seedSession,
  startTestPlatform,
  type TestPlatform,
} from "../auth/support/login_flow.ts";

type Env = Record<string, string>;

interface Team {
  t: TestPlatform;
  dir: string;
  /** A logged-in CLI environment with a home of its own (a person, a machine). */
  member(name: string): Promise<Env>;
}

async function withTeam(run: (team: Team) => Promise<void>) {
  const t = await startTestPlatform();
  const dir = await Deno.makeTempDir({ prefix: "cloudsignal-team-" });
  try {
    await run({
      t,
      dir,
      member: async (name) => {
        await seedSession(t.platform, `${dir}/${name}`);
        return cliEnv(`${dir}/${name}`, t.platform.apiUrl);
      },
    });
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `cloudsignal <args> > file` through a shell, as a person would type it. */
async function redirect(args: string[], env: Env, file: string) {
  const result = await runProcess(
    "sh",
    [
      "-c",
      'out="$1"; shift; exec "$@" > "$out"',
      "sh",
      file,
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      MAIN,
      ...args,
    ],
    { env, timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, result.stderr);
}

/** Adds a rule to the policy file, keeping its formatting style and its `$revision`. */
async function addRule(path: string, topic: string) {
  const policy = JSON.parse(await Deno.readTextFile(path));
  policy.rules = [...(policy.rules ?? []), { topic, action: "sub" }];
  await Deno.writeTextFile(path, `${JSON.stringify(policy, null, 2)}\n`);
}

async function liveTopics(env: Env): Promise<string[]> {
  const got = await runCli(["acl", "get"], { env });
  assert.equal(got.code, 0, got.stderr);
  return JSON.parse(got.stdout).rules.map((rule: { topic: string }) => rule.topic);
}

async function push(env: Env, path: string, extra: string[] = []) {
  return await runCli(["acl", "update", path, "--yes", ...extra], { env });
}

/** B fetches, adds a rule and pushes: the live revision moves past A's base. */
async function bobPushes(team: Team, topic: string) {
  const bob = await team.member("bob");
  const file = `${team.dir}/bob.json`;
  assert.equal((await runCli(["acl", "get", "-o", file, "--force"], { env: bob })).code, 0);
  await addRule(file, topic);
  const pushed = await push(bob, file);
  assert.equal(pushed.code, 0, pushed.stderr);
}

function assertConflict(result: { code: number; stderr: string }, base: number, live: number) {
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `Error: the policy changed since revision ${base}, which .* is based on: it is now ` +
        `revision ${live}; nothing was written`,
    ),
  );
  assert.doesNotMatch(result.stderr, /acl get > /, "no advice that reads into a redirect");
}

Deno.test("the reproduction: A fetches to a file, B pushes, A only looks, A's update is a conflict", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    const file = `${team.dir}/a.json`;
    const got = await runCli(["acl", "get", "-o", file], { env: alice });
    assert.equal(got.code, 0, got.stderr);
    assert.match(
      await Deno.readTextFile(file),
      /^\{\n {2}"\$schema": "[^"]+",\n {2}"\$revision": 1,\n/,
    );
    await addRule(file, "alice/#");
    const edited = await Deno.readTextFile(file);

    await bobPushes(team, "bob/#");
    // A only looks, through a pipe (`acl get | jq …`): the output names the live revision.
    const look = await runProcess(
      "sh",
      ["-c", '"$@" | cat', "sh", Deno.execPath(), "run", "-A", "--quiet", MAIN, "acl", "get"],
      { env: alice, timeoutMs: 60_000 },
    );
    assert.equal(look.code, 0, look.stderr);
    assert.equal(look.stdout.split("\n").length, 2, "compact when piped: one line");
    assert.equal(JSON.parse(look.stdout).$revision, 2);

    const lost = await push(alice, file);
    assertConflict(lost, 1, 2);
    assert.match(
      lost.stderr,
      /Changed since revision 1 \(not in .*a\.json; pushing it would undo these\):\n {2}\+ rules\[0\] \{"action":"sub","topic":"bob\/#"\}/,
    );
    assert.deepEqual(await liveTopics(alice), ["bob/#"], "B's rule is still there");
    assert.equal(await Deno.readTextFile(file), edited, "A's file is untouched");
  }));

Deno.test("two files: fetching a second file gives it its own base and leaves the first one's", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    const first = `${team.dir}/first.json`;
    const second = `${team.dir}/second.json`;
    assert.equal((await runCli(["acl", "get", "-o", first], { env: alice })).code, 0);
    await addRule(first, "first/#");
    await bobPushes(team, "bob/#");
    assert.equal((await runCli(["acl", "get", "-o", second], { env: alice })).code, 0);
    await addRule(second, "second/#");

    assertConflict(await push(alice, first), 1, 2);
    const ok = await push(alice, second);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Updated the policy of Development: revision 3\./);
    assert.deepEqual(await liveTopics(alice), ["bob/#", "second/#"]);
    // The pushed file now records what it wrote, so editing it again needs no new fetch.
    assert.match(ok.stderr, /second\.json now records "\$revision": 3\./);
    assert.equal(JSON.parse(await Deno.readTextFile(second)).$revision, 3);
    await addRule(second, "again/#");
    const again = await push(alice, second);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await liveTopics(alice), ["bob/#", "second/#", "again/#"]);
    assertConflict(await push(alice, first), 1, 4);
  }));

Deno.test("a redirect: `acl get > file` carries the base; a later redirect to another file moves nothing", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    const file = `${team.dir}/policy.json`;
    await redirect(["acl", "get"], alice, file);
    const text = await Deno.readTextFile(file);
    assert.equal(text.split("\n").length, 2, "compact: the redirect is not a terminal");
    assert.match(text, /^\{"\$schema":"[^"]+","\$revision":1,"description":/);
    await addRule(file, "alice/#");
    await bobPushes(team, "bob/#");
    await redirect(["acl", "get"], alice, `${team.dir}/live.json`);

    assertConflict(await push(alice, file), 1, 2);
    assert.deepEqual(await liveTopics(alice), ["bob/#"]);
  }));

Deno.test("a fresh checkout: the base survives a commit and a clone used from another home", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    const carol = await team.member("carol");
    const repo = `${team.dir}/repo`;
    await Deno.mkdir(repo);
    assert.equal(
      (await runCli(["acl", "get", "-o", `${repo}/policy.json`], { env: alice })).code,
      0,
    );
    const git = async (args: string[], cwd: string) => {
      const result = await runProcess("git", args, {
        cwd,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: team.dir,
          GIT_AUTHOR_NAME: "a",
          GIT_AUTHOR_EMAIL: "a@example.com",
          GIT_COMMITTER_NAME: "a",
          GIT_COMMITTER_EMAIL: "a@example.com",
        },
        timeoutMs: 30_000,
      });
      assert.equal(result.code, 0, result.stderr);
    };
    await git(["init", "-q"], repo);
    await git(["add", "policy.json"], repo);
    await git(["commit", "-q", "-m", "policy"], repo);
    await git(["clone", "-q", repo, `${team.dir}/clone`], team.dir);
    const checkedOut = `${team.dir}/clone/policy.json`;
    await addRule(checkedOut, "carol/#");

    await bobPushes(team, "bob/#");
    assertConflict(await push(carol, checkedOut), 1, 2);
    assert.deepEqual(await liveTopics(carol), ["bob/#"]);

    // Based on the live revision, the same checkout goes through.
    await git(["checkout", "-q", "--", "policy.json"], `${team.dir}/clone`);
    const refetched = await runCli(["acl", "get", "-o", checkedOut, "--force"], { env: carol });
    assert.equal(refetched.code, 0, refetched.stderr);
    await addRule(checkedOut, "carol/#");
    const ok = await push(carol, checkedOut);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await liveTopics(carol), ["bob/#", "carol/#"]);
  }));

Deno.test("a file without $revision refuses, naming --if-revision and --force, and writes nothing", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    const file = `${team.dir}/plain.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ version: "2.2", default: "deny", rules: [{ topic: "x", action: "pub" }] }),
    );
    const refused = await push(alice, file);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /Error: .*plain\.json does not say which revision it is based on \(it has no "\$revision" member\)/,
    );
    assert.match(refused.stderr, /--if-revision N \(the live one is 1;/);
    assert.match(refused.stderr, /--force/);
    assert.deepEqual(await liveTopics(alice), []);

    // --dry-run still shows the changes, then says the update would be refused.
    const dry = await runCli(["acl", "update", file, "--dry-run"], { env: alice });
    assert.equal(dry.code, 1);
    assert.match(
      dry.stdout,
      /names no base revision\):\n(.*\n)* {2}\+ rules\[0\] \{"action":"pub","topic":"x"\}\n/,
    );
    assert.match(dry.stdout, /Dry run: nothing was sent\.\n$/);
    assert.match(dry.stderr, /--if-revision/);

    const explicit = await push(alice, file, ["--if-revision", "1"]);
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(file)).$revision, 2, "recorded in the file");
  }));

Deno.test("an earlier revision fetched to a file is based on the live one, so pushing it back is guarded", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    await Deno.writeTextFile(`${team.dir}/alice/policy-revisions.json`, '{"version":1}');
    await bobPushes(team, "bob/#");
    const old = `${team.dir}/old.json`;
    const got = await runCli(["acl", "get", "--revision", "1", "-o", old], { env: alice });
    assert.equal(got.code, 0, got.stderr);
    assert.match(
      got.stderr,
      /policy revision 1 of Development \(an earlier revision; "\$revision": 2, the live one\)/,
    );
    assert.equal(JSON.parse(await Deno.readTextFile(old)).$revision, 2);
    await assert.rejects(
      Deno.stat(`${team.dir}/alice/policy-revisions.json`),
      Deno.errors.NotFound,
      "the record of older versions is removed",
    );
    const back = await push(alice, old);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /- rules\[0\] \{"action":"sub","topic":"bob\/#"\}/);
    assert.deepEqual(await liveTopics(alice), []);

    const stale = await runCli(["acl", "get", "--revision", "2", "-o", old, "--force"], {
      env: alice,
    });
    assert.equal(stale.code, 0);
    await bobPushes(team, "carol/#");
    assertConflict(await push(alice, old), 3, 4);
  }));

Deno.test("a pipe: `acl get | sed … | acl update -` carries the base through, and a stale one is refused", () =>
  withTeam(async (team) => {
    const alice = await team.member("alice");
    const cli = `${Deno.execPath()} run -A --quiet ${MAIN}`;
    // The live policy has no rules yet: the edit gives it one.
    const edit = `s|"rules":\\[\\]|"rules":[{"topic":"piped/#","action":"sub"}]|`;
    const piped = await runProcess(
      "sh",
      ["-c", `${cli} acl get | sed '${edit}' | ${cli} acl update - --yes`],
      { env: alice, timeoutMs: 60_000 },
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(await liveTopics(alice), ["piped/#"]);
    assert.match(piped.stderr, /^(?!.*now records)/s, "nothing to record the revision in");

    const old = (await runCli(["acl", "get", "--revision", "1"], { env: alice })).stdout;
    const late = edit.replace("piped", "late");
    const stale = await runProcess("sh", ["-c", `sed '${late}' | ${cli} acl update - --yes`], {
      env: alice,
      stdin: old.replace('"$revision":2', '"$revision":1'),
      timeoutMs: 60_000,
    });
    assertConflict(stale, 1, 2);
    assert.match(stale.stderr, /cloudsignal acl update - --if-revision 2/);
    assert.deepEqual(await liveTopics(alice), ["piped/#"]);
  }));

/**
 * The everyday workflow against a real `cloudsignal dev` platform (in process) with a
 * logged-in CLI: get → edit → validate → update → simulate, the lost race of a concurrent
 * update, and claims that take effect on a connected MQTT client without reconnecting.
 */

import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";
import {
  cliEnv,
  launchBrowser,
  loginWithBrowser,
  seedSession,
  startTestPlatform,
  type TestPlatform,
} from "../auth/support/login_flow.ts";
import { connect, Observer } from "../platform/mqtt_support.ts";

async function withPlatform(run: (t: TestPlatform, home: string) => Promise<void>) {
  const t = await startTestPlatform();
  const home = await Deno.makeTempDir({ prefix: "cloudsignal-remote-" });
  try {
    await run(t, home);
  } finally {
    await t.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

const AGENT_RULE = { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" };

Deno.test("logged in with the browser: get, edit, validate, update, simulate, and earlier revisions", async () => {
  await withPlatform(async (t, home) => {
    const env = cliEnv(home, t.platform.apiUrl);
    const browser = await launchBrowser();
    try {
      const { result } = await loginWithBrowser(browser, env);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await browser.close();
    }
    const file = `${home}/policy.json`;
    const got = await runCli(["acl", "get", "-o", file], { env });
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stderr, /^Wrote .*policy\.json: policy revision 1 of Development\n$/);
    const original = await Deno.readTextFile(file);

    const policy = JSON.parse(original);
    policy.rules.push(AGENT_RULE);
    policy.tests = [{
      name: "scout owns its card",
      client: { username: "scout", claims: { agent_id: "scout" } },
      action: "pub",
      topic: "agents/scout/card",
      expect: "allow",
    }];
    await Deno.writeTextFile(file, JSON.stringify(policy, null, 2));

    const validated = await runCli(["acl", "validate", file], { env });
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);
    assert.match(validated.stdout, /^✓ Policy is valid \(1 rule, 0 global rules, 0 publishers\)\n/);
    assert.match(
      validated.stdout,
      /warning: rules\[0\] - puts claim "agent_id" into its topic "agents\/\{\$self\}\/card", but no user of this organization has that claim/,
    );
    assert.match(
      validated.stdout,
      /at .*policy\.json:\d+:\d+\n/,
      "server findings are placed in the file",
    );

    const dry = await runCli(["acl", "update", file, "--dry-run"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /\+ rules\[0\] \{"action":"pub\+sub","binding":"agent_id","topic":"agents\/\{\$self\}\/card"\}/,
    );
    assert.match(
      dry.stdout,
      /Test decisions that change:\n {2}scout owns its card: deny → allow\n/,
    );
    assert.match(dry.stdout, /Dry run: nothing was sent\.\n$/);

    const updated = await runCli(["acl", "update", file, "--yes"], { env });
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(
      updated.stdout,
      /Updated the policy of Development: revision 2\.\nThe previous one stays available: cloudsignal acl get --revision 1\n$/,
    );

    const simulated = await runCli([
      "acl",
      "simulate",
      "--username",
      "scout",
      "--claim",
      "agent_id=scout",
      "--action",
      "pub",
      "--topic",
      "agents/scout/card",
      "--compare-server",
    ], { env });
    assert.equal(simulated.code, 0, simulated.stderr);
    assert.equal(
      simulated.stdout,
      "Allowed - matches rules[0] (agents/{$self}/card resolves to agents/scout/card which matches agents/scout/card)\n",
    );
    assert.match(simulated.stderr, /The server agrees \(allow, rule\)\./);

    const previous = await runCli(["acl", "get", "--revision", "1"], { env });
    assert.equal(previous.code, 0);
    const { $revision: base, ...earlier } = JSON.parse(previous.stdout);
    const { $revision: _, ...first } = JSON.parse(original);
    assert.deepEqual(earlier, first, "nothing is lost");
    assert.equal(base, 2, "an earlier revision is based on the live one");
    const revisions = JSON.parse((await runCli(["acl", "revisions", "--json"], { env })).stdout);
    assert.equal(revisions.current_revision, 2);
    assert.equal(revisions.revisions[0].created_by.email, t.platform.user.email);

    const again = await runCli(["acl", "update", file, "--yes"], { env });
    assert.match(again.stdout, /is already .*policy\.json; nothing to update/);
  });
});

Deno.test("a concurrent update loses the race with a message on how to merge, and writes nothing", async () => {
  await withPlatform(async (t, home) => {
    const alice = cliEnv(`${home}/alice`, t.platform.apiUrl);
    const bob = cliEnv(`${home}/bob`, t.platform.apiUrl);
    await seedSession(t.platform, `${home}/alice`);
    await seedSession(t.platform, `${home}/bob`);
    for (const env of [alice, bob]) {
      const got = await runCli(["acl", "get", "-o", `${env.CLOUDSIGNAL_HOME}/policy.json`], {
        env,
      });
      assert.equal(got.code, 0, got.stderr);
    }
    const edit = async (env: Record<string, string>, topic: string) => {
      const path = `${env.CLOUDSIGNAL_HOME}/policy.json`;
      const policy = JSON.parse(await Deno.readTextFile(path));
      policy.rules.push({ topic, action: "sub" });
      policy.tests = [];
      await Deno.writeTextFile(path, JSON.stringify(policy));
      return path;
    };
    const alicePath = await edit(alice, "alice/#");
    const bobPath = await edit(bob, "bob/#");
    assert.equal((await runCli(["acl", "update", alicePath, "--yes"], { env: alice })).code, 0);

    const lost = await runCli(["acl", "update", bobPath, "--yes"], { env: bob });
    assert.equal(lost.code, 1);
    assert.match(
      lost.stderr,
      /Error: the policy changed since revision 1, which .*policy\.json is based on: it is now revision 2; nothing was written\nSomeone else updated it\. To merge:\n {2}cloudsignal acl diff .*policy\.json +# your file against revision 2\n {2}cloudsignal acl get -o live\.json +# revision 2, in a file of its own\n/,
    );
    assert.match(lost.stderr, /--if-revision 2/);
    const live = JSON.parse((await runCli(["acl", "get"], { env: bob })).stdout);
    assert.deepEqual(live.rules.map((rule: { topic: string }) => rule.topic), ["alice/#"]);

    // The server enforces it too: a write based on a stale revision is refused with 412.
    const stale = await runCli(["acl", "update", bobPath, "--yes", "--if-revision", "1"], {
      env: bob,
    });
    assert.equal(stale.code, 1);
    assert.match(
      stale.stderr,
      /the policy changed since revision 1, which .* is based on: it is now revision 2/,
    );
    const replaced = await runCli(["acl", "update", bobPath, "--yes", "--if-revision", "2"], {
      env: bob,
    });
    assert.equal(replaced.code, 0, replaced.stderr);
  });
});

Deno.test("claims set and unset apply to the next publish of a connected client", async () => {
  await withPlatform(async (t, home) => {
    const env = cliEnv(home, t.platform.apiUrl);
    const session = await seedSession(t.platform, home);
    const policyPath = `${home}/policy.json`;
    await Deno.writeTextFile(
      policyPath,
      JSON.stringify({
        version: "2.2",
        default: "deny",
        rules: [
          { topic: "devices/{$self}/status", action: "pub", binding: "device_id" },
          { topic: "devices/#", action: "sub" },
          { topic: "markers/#", action: "pub+sub" },
        ],
      }),
    );
    assert.equal(
      (await runCli(["acl", "update", policyPath, "--yes", "--force"], { env })).code,
      0,
    );

    const login = `${t.platform.user.username}@${t.platform.organization.short_id}`;
    const publisher = await connect(t.platform.mqttUrl, login, session.access_token, "publisher");
    const subscriber = await connect(t.platform.mqttUrl, login, session.access_token, "subscriber");
    try {
      const observer = new Observer(subscriber);
      await subscriber.subscribeAsync(["devices/#", "markers/#"]);
      // MQTT keeps one connection's messages in order: a marker published after a message
      // arrives after it, unless the broker dropped that message.
      const attempt = async (payload: string) => {
        await publisher.publishAsync("devices/d1/status", payload, { qos: 1 });
        await publisher.publishAsync("markers/x", `after ${payload}`, { qos: 1 });
        return (await observer.before(`after ${payload}`)).map((message) => message.payload);
      };
      assert.deepEqual(await attempt("before the claim"), [], "denied: the claim is not set");

      const set = await runCli([
        "user",
        "claims",
        "set",
        t.platform.user.username,
        "--key",
        "device_id",
        "--value",
        "d1",
      ], { env });
      assert.equal(set.code, 0, set.stderr);
      assert.deepEqual(
        await attempt("with the claim"),
        ["with the claim"],
        "allowed without reconnecting",
      );

      const shown = await runCli(["user", "claims", "show", t.platform.user.username], { env });
      assert.equal(shown.stdout, 'KEY        VALUE\ndevice_id  "d1"\n');
      const unsafe = await runCli([
        "user",
        "claims",
        "set",
        t.platform.user.username,
        "--key",
        "device_id",
        "--value",
        "d1/#",
      ], { env });
      assert.equal(unsafe.code, 1);
      assert.match(
        unsafe.stderr,
        /refusing to set claim "device_id" .* contains '\/'.*nothing was written\nRules of revision 2 that use it:\n {2}rules\[0\]: devices\/\{\$self\}\/status\n/s,
      );

      const unset = await runCli([
        "user",
        "claims",
        "unset",
        t.platform.user.username,
        "--key",
        "device_id",
      ], { env });
      assert.equal(unset.code, 0, unset.stderr);
      assert.deepEqual(await attempt("after the unset"), [], "denied again");
    } finally {
      await publisher.endAsync();
      await subscriber.endAsync();
    }
  });
});

Deno.test("claims: unknown users and keys, bad keys, and --user for simulate", async () => {
  await withPlatform(async (t, home) => {
    const env = cliEnv(home, t.platform.apiUrl);
    await seedSession(t.platform, home);
    const user = t.platform.user.username;
    const ghost = await runCli(["user", "claims", "show", "ghost"], { env });
    assert.equal(ghost.code, 1);
    assert.match(ghost.stderr, /^Error: no user "ghost" in your organization\n/);
    assert.match(ghost.stderr, /`cloudsignal user list` lists them\.\n/);
    const noKey = await runCli(["user", "claims", "unset", user, "--key", "missing"], { env });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, new RegExp(`^Error: user ${user} has no claim "missing"\\n`));
    const badKey = await runCli(["user", "claims", "set", user, "--key", "a b", "--value", "x"], {
      env,
    });
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /--key "a b" is not a claim name/);
    assert.equal(
      (await runCli(["user", "claims", "set", user, "--key", "team", "--value", "red"], { env }))
        .code,
      0,
    );
    const json = JSON.parse(
      (await runCli(["user", "claims", "show", user, "--json"], { env })).stdout,
    );
    assert.deepEqual(json.claims, { team: "red" });
    const simulated = await runCli([
      "acl",
      "simulate",
      "--user",
      user,
      "--action",
      "sub",
      "--topic",
      "x",
      "--json",
    ], { env });
    assert.equal(simulated.code, 0, simulated.stderr);
    assert.equal(JSON.parse(simulated.stdout).decision, "deny");
  });
});

Deno.test("without a login, remote commands exit 4 and say how to log in", async () => {
  await withPlatform(async (t, home) => {
    const env = cliEnv(home, t.platform.apiUrl);
    for (const args of [["acl", "get"], ["user", "claims", "show", "x"], ["acl", "revisions"]]) {
      const result = await runCli(args, { env });
      assert.equal(result.code, 4, args.join(" "));
      assert.match(result.stderr, /cloudsignal login/);
    }
    const validated = await runCli([
      "acl",
      "validate",
      new URL("../../examples/agent-card.json", import.meta.url).pathname,
    ], { env });
    assert.equal(validated.code, 4);
    assert.equal(
      validated.stdout,
      "✓ The local stage passed (1 rule, 1 global rule, 1 publisher); the server stage was skipped\n",
      "the local result is still shown, and never called valid",
    );
    assert.match(
      validated.stderr,
      /^Error: the server stage of validation was skipped: not logged in/,
    );
    assert.match(validated.stderr, /cloudsignal login/);
    assert.match(validated.stderr, /cloudsignal acl validate .*agent-card\.json --local-only\n$/);
  });
});

Deno.test("rolling back: acl rollback shows the change, asks, and writes against the live revision", async () => {
  await withPlatform(async (t, home) => {
    const env = cliEnv(home, t.platform.apiUrl);
    await seedSession(t.platform, home);
    const file = `${home}/p.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ version: "2.2", default: "deny", rules: [{ topic: "a", action: "pub" }] }),
    );
    assert.equal(
      (await runCli(["acl", "update", file, "--yes", "--if-revision", "1"], { env })).code,
      0,
    );
    const unanswered = await runCli(["acl", "rollback", "1"], { env });
    assert.equal(unanswered.code, 2, "no terminal and no --yes: a usage error");
    assert.match(unanswered.stderr, /acl rollback needs a confirmation.*\n.*--yes/);
    const dry = await runCli(["acl", "rollback", "1", "--dry-run"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /- rules\[0\] \{"action":"pub","topic":"a"\}/);
    assert.match(dry.stdout, /Dry run: nothing was sent\.\n$/);
    const rollback = await runCli(["acl", "rollback", "1", "--yes"], { env });
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, /- rules\[0\] \{"action":"pub","topic":"a"\}/);
    assert.match(rollback.stdout, /revision 3\./);
    const again = await runCli(["acl", "rollback", "3", "--yes"], { env });
    assert.match(
      again.stdout,
      /^No changes: the live policy of Development \(revision 3\) is already revision 3/,
    );
    const missing = await runCli(["acl", "rollback", "99", "--yes"], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no policy revision 99/);
    assert.equal((await runCli(["acl", "rollback", "0"], { env })).code, 2);
  });
});

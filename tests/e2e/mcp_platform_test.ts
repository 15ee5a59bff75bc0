/**
 * `cloudsignal mcp` against a real local platform (`cloudsignal dev` in process), logged in
 * through the real login page in headless Chromium, driven by the MCP SDK's own Client over
 * stdio: every tool, the resources, a stale base revision, elicitation accepted and
 * declined, claims set through MCP and enforced on a connected MQTT client, the silent
 * refresh of the stored session, and no token in anything the server emits.
 */

import assert from "node:assert/strict";
import type { MqttClient } from "npm:mqtt@5.16.0";
import { ElicitRequestSchema } from "npm:@modelcontextprotocol/sdk@1.32.2/types.js";
import {
  cliEnv,
  expireStoredAccessToken,
  launchBrowser,
  loginWithBrowser,
  PASSWORD,
  startTestPlatform,
  type TestPlatform,
} from "../auth/support/login_flow.ts";
import { tempDir } from "../support/cli.ts";
import { connect, Observer, until } from "../platform/mqtt_support.ts";
import {
  AGENT_CARD_RULE,
  call,
  connectStdio,
  type McpSession,
  READ_TOOLS,
  SCOUT_CARD_TEST,
  serverEnv,
  structured,
  textOf,
  WRITE_TOOLS,
} from "../mcp/support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "#", action: "sub", user: "observer" },
    { topic: "markers/#", action: "pub+sub" },
  ],
  rules: [AGENT_CARD_RULE],
  tests: [
    SCOUT_CARD_TEST,
    {
      name: "scout cannot publish another card",
      client: { username: "scout", claims: { agent_id: "scout" } },
      action: "pub",
      topic: "agents/other/card",
      expect: "deny",
    },
  ],
};

/** Everything the MCP server emitted, for the token check. */
const emitted: string[] = [];

async function callRecorded(session: McpSession, name: string, args: Record<string, unknown> = {}) {
  const result = await call(session.client, name, args);
  emitted.push(JSON.stringify(result));
  return result;
}

interface Setup {
  t: TestPlatform;
  home: string;
  env: Record<string, string>;
  tokens(): Promise<string[]>;
}

async function withLoggedInPlatform(fn: (setup: Setup) => Promise<void>): Promise<void> {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const login = await loginWithBrowser(browser, cliEnv(home.path, t.platform.apiUrl));
    assert.equal(login.result.code, 0, login.result.stderr);
    const seen = new Set<string>();
    const tokens = async () => {
      const file = JSON.parse(await Deno.readTextFile(`${home.path}/credentials.json`));
      for (const session of file.sessions) {
        seen.add(session.access_token);
        if (session.refresh_token) seen.add(session.refresh_token);
      }
      return [...seen];
    };
    await tokens();
    const env = serverEnv(home.path, { CLOUDSIGNAL_API_URL: t.platform.apiUrl });
    await fn({ t, home: home.path, env, tokens });
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
}

function assertNoToken(tokens: string[], outputs: string[]): void {
  const all = outputs.join("\n");
  for (const token of tokens) {
    assert.ok(token.length >= 16, "a real token");
    assert.equal(all.includes(token), false, `a token (${token.slice(0, 6)}…) was emitted`);
  }
}

Deno.test("every tool against a real platform after a browser login; claims reach a connected MQTT client", async () => {
  await withLoggedInPlatform(async ({ t, home, env, tokens }) => {
    const { platform } = t;
    const dir = await tempDir();
    const session = await connectStdio({ args: ["--allow-writes", "--debug"], env });
    const clients: MqttClient[] = [];
    try {
      const { tools } = await session.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name), [...READ_TOOLS, ...WRITE_TOOLS]);

      const me = structured(await callRecorded(session, "whoami"));
      assert.equal(me.email, "ada@example.com");
      assert.deepEqual(me.organization, platform.organization);
      assert.equal(me.source, "file");

      const live = structured(await callRecorded(session, "acl_get_policy"));
      assert.equal(live.revision, 1);
      assert.equal(live.live, true);

      await Deno.writeTextFile(`${dir.path}/policy.json`, JSON.stringify(POLICY, null, 2));
      const validated = structured(
        await callRecorded(session, "acl_validate", { policy_path: `${dir.path}/policy.json` }),
      );
      assert.equal(validated.server, "checked");
      assert.equal(validated.valid, true);

      const tested = structured(
        await callRecorded(session, "acl_test", { policy_path: `${dir.path}/policy.json` }),
      );
      assert.deepEqual([tested.passed, tested.failed], [2, 0]);

      const diff = structured(
        await callRecorded(session, "acl_diff", { policy_path: `${dir.path}/policy.json` }),
      );
      assert.equal(diff.against.revision, 1);
      assert.equal(diff.identical, false);
      assert.match(diff.summary, /\+ rules\[0\]/);

      const updated = structured(
        await callRecorded(session, "acl_update_policy", {
          policy_path: `${dir.path}/policy.json`,
          base_revision: 1,
        }),
      );
      assert.equal(updated.updated, true);
      assert.equal(updated.outcome, "updated");
      assert.equal(updated.revision, 2);
      assert.equal(updated.live_revision, 1);
      assert.match(updated.summary, /\+ rules\[0\]/);
      assert.equal(platform.store.policy(platform.organization.id).revision, 2);
      assert.equal(updated.file_revision, "recorded");
      const file = JSON.parse(await Deno.readTextFile(`${dir.path}/policy.json`));
      assert.equal(file.$revision, 2, "the file now records the revision it became");

      // The same base again: someone (this agent) moved the policy on; nothing is written.
      const changed = { ...POLICY, description: "a change based on revision 1" };
      const stale = await callRecorded(session, "acl_update_policy", {
        policy: JSON.stringify(changed),
        base_revision: 1,
      });
      assert.equal(stale.isError, true);
      assert.match(
        textOf(stale),
        /The live policy changed since base_revision 1: it is now revision 2\. Nothing was written\.\nWhat changed since 1:\n(?:.*\n)* {2}\+ rules\[0\][^\n]*\n(?:.*\n)*Read it again with acl_get_policy, merge your changes into that document, and call acl_update_policy with base_revision 2\./,
      );
      assert.equal(platform.store.policy(platform.organization.id).revision, 2);
      const never = await callRecorded(session, "acl_update_policy", {
        policy: JSON.stringify(changed),
        base_revision: 99,
      });
      assert.equal(never.isError, true);
      assert.match(
        textOf(never),
        /base_revision 99 is not a revision of this policy: the live one is 2/,
      );

      const failing = {
        ...POLICY,
        tests: [{ ...POLICY.tests[0], topic: "agents/other/card", name: "wrong expectation" }],
      };
      const refused = structured(
        await callRecorded(session, "acl_update_policy", {
          policy: JSON.stringify(failing),
          base_revision: 2,
        }),
      );
      assert.equal(refused.updated, false);
      assert.equal(refused.outcome, "tests_failed");
      assert.equal(refused.tests.failed, 1);
      assert.equal(platform.store.policy(platform.organization.id).revision, 2);

      const old = structured(await callRecorded(session, "acl_get_policy", { revision: 1 }));
      assert.equal(old.live, false);
      assert.deepEqual(old.policy.rules, []);

      const revisions = structured(await callRecorded(session, "acl_list_revisions"));
      assert.equal(revisions.current_revision, 2);
      assert.deepEqual(revisions.revisions.map((r: { revision: number }) => r.revision), [2, 1]);
      assert.equal(revisions.revisions[0].created_by.email, "ada@example.com");

      const users = structured(await callRecorded(session, "user_list"));
      assert.ok(users.users.some((u: { email: string }) => u.email === "ada@example.com"));

      // Claims through MCP, seen by a client that stays connected.
      await platform.store.createUser({
        org_id: platform.organization.id,
        email: "observer@example.com",
        password: PASSWORD,
        username: "observer",
        mqtt_password: "observer-secret",
      });
      const short = platform.organization.short_id;
      const observerClient = await connect(
        platform.mqttUrl,
        `observer@${short}`,
        "observer-secret",
        "observer",
      );
      clients.push(observerClient);
      const observer = new Observer(observerClient);
      await observerClient.subscribeAsync("#", { qos: 1 });
      const device = await connect(
        platform.mqttUrl,
        `${platform.user.username}@${short}`,
        PASSWORD,
        "scout-1",
      );
      clients.push(device);
      let n = 0;
      const published = async (): Promise<boolean> => {
        const payload = `card-${n++}`;
        await device.publishAsync("agents/scout/card", payload, { qos: 1 });
        const marker = `marker-${n++}`;
        await device.publishAsync("markers/m", marker, { qos: 1 });
        return (await observer.before(marker)).some((message) => message.payload === payload);
      };
      assert.equal(await published(), false, "no agent_id claim yet: denied");

      const set = structured(
        await callRecorded(session, "user_claims_set", {
          user: platform.user.username,
          key: "agent_id",
          value: "scout",
        }),
      );
      assert.deepEqual(set.claims, { agent_id: "scout" });
      assert.equal(await published(), true, "the claim applies to the connected client");

      const simulated = structured(
        await callRecorded(session, "acl_simulate", {
          action: "pub",
          topic: "agents/scout/card",
          user: platform.user.username,
        }),
      );
      assert.equal(simulated.policy_name, null);
      assert.equal(simulated.revision, 2);
      assert.equal(simulated.decision.decision, "allow");

      const unsafe = await callRecorded(session, "user_claims_set", {
        user: platform.user.username,
        key: "agent_id",
        value: "scout/#",
      });
      assert.equal(unsafe.isError, true);
      assert.match(textOf(unsafe), /refusing to set claim "agent_id".*nothing was written/s);
      assert.match(textOf(unsafe), /rules\[0\]: agents\/\{\$self\}\/card/);
      assert.deepEqual(platform.store.claims(platform.user.id), { agent_id: "scout" });

      const shown = structured(
        await callRecorded(session, "user_claims_show", { user: platform.user.username }),
      );
      assert.deepEqual(shown.claims, { agent_id: "scout" });

      const unset = structured(
        await callRecorded(session, "user_claims_unset", {
          user: platform.user.username,
          key: "agent_id",
        }),
      );
      assert.deepEqual(unset.claims, {});
      assert.equal(await published(), false, "the claim is gone: denied again");

      // Resources read through the same operations.
      const resource = await session.client.readResource({ uri: "cloudsignal://policy/live" });
      const content = resource.contents[0] as { text: string; _meta?: { revision?: number } };
      assert.deepEqual(JSON.parse(content.text).rules, POLICY.rules);
      assert.equal(content._meta?.revision, 2);
      const first = await session.client.readResource({ uri: "cloudsignal://policy/revisions/1" });
      assert.deepEqual(JSON.parse((first.contents[0] as { text: string }).text).rules, []);
      const completion = await session.client.complete({
        ref: { type: "ref/resource", uri: "cloudsignal://policy/revisions/{revision}" },
        argument: { name: "revision", value: "" },
      });
      assert.deepEqual(completion.completion.values, ["2", "1"]);
      await assert.rejects(
        session.client.readResource({ uri: "cloudsignal://policy/revisions/9" }),
        /revision 9|not found|no revision/i,
      );
      for (
        const page of [
          await session.client.listResources(),
          await session.client.listResourceTemplates(),
        ]
      ) {
        emitted.push(JSON.stringify(page));
      }

      // The stored session's access token runs out: the server refreshes it silently.
      const before = platform.stats().tokenRequests.refresh_token;
      await expireStoredAccessToken(home);
      const again = structured(await callRecorded(session, "whoami"));
      assert.equal(again.email, "ada@example.com");
      assert.equal(platform.stats().tokenRequests.refresh_token, before + 1);

      await until(() => session.stderr().includes("debug: tools/call whoami"), "debug log");
      emitted.push(session.stderr());
      assertNoToken(await tokens(), emitted);
    } finally {
      await Promise.all(clients.map((client) => client.endAsync().catch(() => {})));
      await session.close();
      await dir.cleanup();
    }
  });
});

Deno.test("elicitation: a declined confirmation writes nothing and says so; an accepted one writes", async () => {
  await withLoggedInPlatform(async ({ t, env, tokens }) => {
    const { platform } = t;
    const session = await connectStdio({
      args: ["--allow-writes"],
      env,
      capabilities: { elicitation: {} },
    });
    const asked: string[] = [];
    let answer: "accept" | "decline" | "cancel" | "crash" = "decline";
    session.client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params.message);
      if (answer === "crash") throw new Error("the UI crashed");
      return { action: answer };
    });
    try {
      const policy = JSON.stringify(POLICY);
      const declined = await callRecorded(session, "acl_update_policy", {
        policy,
        base_revision: 1,
      });
      assert.equal(declined.isError, undefined);
      assert.equal(structured(declined).outcome, "declined");
      assert.equal(structured(declined).updated, false);
      assert.match(
        textOf(declined),
        /Not updated: the person declined the confirmation\. Nothing was written\./,
      );
      assert.equal(asked.length, 1);
      assert.match(
        asked[0],
        new RegExp(
          `Update the ACL policy of ${platform.organization.name} \\(revision 1\\) with <policy>\\?`,
        ),
      );
      assert.match(
        asked[0],
        /\+ rules\[0\] \{"action":"pub\+sub","binding":"agent_id","topic":"agents\/\{\$self\}\/card"\}/,
      );
      assert.equal(platform.store.policy(platform.organization.id).revision, 1);

      answer = "cancel";
      const cancelled = structured(
        await callRecorded(session, "acl_update_policy", { policy, base_revision: 1 }),
      );
      assert.equal(cancelled.outcome, "cancelled");
      assert.equal(platform.store.policy(platform.organization.id).revision, 1);

      answer = "crash";
      const crashed = await callRecorded(session, "acl_update_policy", {
        policy,
        base_revision: 1,
      });
      assert.equal(structured(crashed).outcome, "cancelled");
      assert.match(
        textOf(crashed),
        /Not updated: the confirmation could not be asked \(.*the UI crashed.*\)\. Nothing was written\./,
      );
      assert.equal(platform.store.policy(platform.organization.id).revision, 1);

      answer = "accept";
      const accepted = structured(
        await callRecorded(session, "acl_update_policy", { policy, base_revision: 1 }),
      );
      assert.equal(accepted.outcome, "updated");
      assert.equal(accepted.revision, 2);
      assert.equal(asked.length, 4);
      assert.equal(platform.store.policy(platform.organization.id).revision, 2);

      // Nothing to change: no question.
      const unchanged = structured(
        await callRecorded(session, "acl_update_policy", { policy, base_revision: 2 }),
      );
      assert.equal(unchanged.outcome, "unchanged");
      assert.equal(asked.length, 4);
      emitted.push(session.stderr(), ...asked);
      assertNoToken(await tokens(), emitted);
    } finally {
      await session.close();
    }
  });
});

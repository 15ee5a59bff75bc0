/**
 * The broker with real clients (mqtt.js and Debian's mosquitto_pub / mosquitto_sub): every
 * PUBLISH and SUBSCRIBE is allowed or denied exactly as `POST /v2/acl/simulate` predicts for
 * the same policy and claims, and claim and policy changes apply to connected clients.
 */

import assert from "node:assert/strict";
import type { MqttClient } from "npm:mqtt@5.16.0";
import { api, login, PASSWORD, startTestPlatform, type TestPlatform } from "../platform/support.ts";
import { runCli, tempDir } from "../support/cli.ts";
import {
  connect,
  mosquitto,
  Observer,
  spawnMosquitto,
  subscribeCodes,
  until,
} from "../platform/mqtt_support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "public/#", action: "pub+sub" },
    { topic: "#", action: "sub", user: "observer" },
    { topic: "markers/#", action: "pub+sub" },
  ],
  rules: [
    { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" },
    { topic: "agents/{$self}/inbox", action: "sub", binding: "agent_id", qos: [0, 1] },
    { topic: "chat/{channel}/#", action: "pub+sub", binding: "channels", require_grant: true },
    { topic: "public/secret/#", action: "pub+sub", effect: "deny" },
    { topic: "retained/#", action: "pub", retain: false },
  ],
  publishers: [{ identity: "dev", topics: ["notifications/#"] }],
};

interface Setup {
  t: TestPlatform;
  token: string;
  mqttUser: string;
  observer: Observer;
  clients: MqttClient[];
}

async function withSetup(fn: (setup: Setup) => Promise<void>) {
  const t = await startTestPlatform({ logAllowedPublishes: true });
  const clients: MqttClient[] = [];
  try {
    const { platform } = t;
    const token = (await login(platform.apiUrl)).access_token;
    const put = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY, {
      "if-match": '"1"',
    });
    assert.equal(put.status, 200, put.text);
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
    assert.deepEqual(await subscribeCodes(observerClient, "#", 1), [1]);
    await fn({ t, token, mqttUser: `dev@${short}`, observer, clients });
  } finally {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => {})));
    await t.close();
  }
}

interface Case {
  action: "pub" | "sub";
  topic: string;
  qos: 0 | 1 | 2;
  retain?: boolean;
}

const CASES: Case[] = [
  { action: "pub", topic: "public/a", qos: 1 },
  { action: "pub", topic: "public/secret/x", qos: 1 },
  { action: "pub", topic: "agents/scout/card", qos: 1 },
  { action: "pub", topic: "agents/other/card", qos: 1 },
  { action: "pub", topic: "chat/lobby/m", qos: 1 },
  { action: "pub", topic: "chat/ops/m", qos: 1 },
  { action: "pub", topic: "notifications/n", qos: 1 },
  { action: "pub", topic: "retained/x", qos: 1, retain: true },
  { action: "pub", topic: "public/kept", qos: 1, retain: true },
  { action: "pub", topic: "retained/y", qos: 1, retain: false },
  { action: "pub", topic: "$SYS/x", qos: 1 },
  { action: "sub", topic: "public/#", qos: 1 },
  { action: "sub", topic: "public/secret/#", qos: 0 },
  { action: "sub", topic: "agents/scout/inbox", qos: 2 },
  { action: "sub", topic: "agents/+/card", qos: 0 },
  { action: "sub", topic: "chat/dev/#", qos: 0 },
  { action: "sub", topic: "chat/+/#", qos: 0 },
  { action: "sub", topic: "#", qos: 0 },
  { action: "sub", topic: "$SYS/#", qos: 0 },
];

async function simulate(setup: Setup, c: Case, clientId: string) {
  const { platform } = setup.t;
  const result = await api(platform.apiUrl, setup.token, "POST", "/v2/acl/simulate", {
    request: {
      client: {
        username: "dev",
        client_id: clientId,
        claims: platform.store.claims(platform.user.id),
      },
      action: c.action,
      topic: c.topic,
      qos: c.qos,
      retain: c.retain ?? false,
    },
  });
  assert.equal(result.status, 200, result.text);
  return result.body as { decision: "allow" | "deny"; granted_qos: number | null };
}

Deno.test("mqtt.js: every PUBLISH and SUBSCRIBE is decided as acl simulate predicts", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    platform.store.setClaim(platform.user.id, "agent_id", "scout");
    platform.store.setClaim(platform.user.id, "channels", "lobby,dev");
    const client = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "parity-1");
    setup.clients.push(client);
    let n = 0;
    for (const c of CASES) {
      const predicted = await simulate(setup, c, "parity-1");
      const label = `${c.action} ${c.topic}: predicted ${predicted.decision}`;
      if (c.action === "sub") {
        const codes = await subscribeCodes(client, c.topic, c.qos);
        const expected = predicted.decision === "allow"
          ? Math.min(c.qos, predicted.granted_qos!)
          : 128;
        assert.deepEqual(codes, [expected], label);
        continue;
      }
      const payload = `message-${n++}`;
      await client.publishAsync(c.topic, payload, { qos: c.qos, retain: c.retain ?? false });
      const marker = `marker-${n++}`;
      await client.publishAsync("markers/m", marker, { qos: 1 });
      const delivered = (await setup.observer.before(marker)).some((m) => m.payload === payload);
      const expectDelivered = predicted.decision === "allow" && !c.topic.startsWith("$");
      assert.equal(delivered, expectDelivered, label);
      const logged = setup.t.logs.find((line) =>
        line.includes(`PUBLISH ${setup.mqttUser} "${c.topic}"`)
      );
      assert.ok(logged, `decision logged for ${c.topic}`);
      assert.match(
        logged,
        predicted.decision === "allow" ? /: Allowed - / : /: Denied - .*; dropped$/,
      );
    }
    assert.ok(client.connected, "denied packets do not disconnect the client");
    const fresh = await connect(
      platform.mqttUrl,
      `observer@${platform.organization.short_id}`,
      "observer-secret",
      "parity-2",
    );
    setup.clients.push(fresh);
    const freshObserver = new Observer(fresh);
    await subscribeCodes(fresh, "#", 0);
    await client.publishAsync("markers/m", "after-retained", { qos: 1 });
    assert.deepEqual(
      (await freshObserver.before("after-retained")).map((m) => `${m.topic} ${m.retain}`),
      ["public/kept true"],
      "the allowed retained publish is stored, the denied one is not",
    );
  });
});

Deno.test("the CLI's offline acl simulate and the server's simulate agree", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    platform.store.setClaim(platform.user.id, "agent_id", "scout");
    platform.store.setClaim(platform.user.id, "channels", "lobby,dev");
    const dir = await tempDir();
    try {
      await Deno.writeTextFile(`${dir.path}/policy.json`, JSON.stringify(POLICY));
      const cases = CASES.filter((_, i) => i % 3 === 0);
      const runs = await Promise.all(cases.map((c) =>
        runCli([
          "acl",
          "simulate",
          "--policy",
          `${dir.path}/policy.json`,
          "--username",
          "dev",
          "--client-id",
          "cli-1",
          "--claim",
          "agent_id=scout",
          "--claim",
          "channels=lobby,dev",
          "--topic",
          c.topic,
          "--action",
          c.action,
          "--qos",
          String(c.qos),
          ...(c.retain ? ["--retain"] : []),
          "--json",
        ])
      ));
      for (const [i, c] of cases.entries()) {
        assert.equal(runs[i].code, 0, runs[i].stderr);
        const offline = JSON.parse(runs[i].stdout);
        const server = await simulate(setup, c, "cli-1");
        assert.equal(offline.decision, server.decision, `${c.action} ${c.topic}`);
        assert.equal(offline.granted_qos, server.granted_qos, `${c.action} ${c.topic}`);
      }
    } finally {
      await dir.cleanup();
    }
  });
});

Deno.test("mosquitto_pub / mosquitto_sub: allowed and denied as acl simulate predicts", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    platform.store.setClaim(platform.user.id, "agent_id", "scout");
    const port = new URL(platform.mqttUrl).port;
    const common = [
      "-h",
      "127.0.0.1",
      "-p",
      port,
      "-u",
      setup.mqttUser,
      "-P",
      PASSWORD,
      "-V",
      "mqttv311",
    ];
    const pubs: Case[] = [
      { action: "pub", topic: "public/from-mosquitto", qos: 1 },
      { action: "pub", topic: "public/secret/from-mosquitto", qos: 1 },
      { action: "pub", topic: "agents/scout/card", qos: 2 },
      { action: "pub", topic: "elsewhere/x", qos: 0 },
    ];
    let n = 0;
    for (const c of pubs) {
      const predicted = await simulate(setup, c, `mp-${n}`);
      const payload = `mosquitto-${n++}`;
      const result = await mosquitto("mosquitto_pub", [
        ...common,
        "-i",
        `mp-${n}`,
        "-t",
        c.topic,
        "-m",
        payload,
        "-q",
        String(c.qos),
      ]);
      assert.equal(result.code, 0, result.stderr);
      await until(
        () => setup.t.logs.some((line) => line.includes(`PUBLISH ${setup.mqttUser} "${c.topic}"`)),
        `the broker's decision on ${c.topic}`,
      );
      const marker = `m-${n}`;
      await mosquitto("mosquitto_pub", [...common, "-t", "markers/m", "-m", marker, "-q", "1"]);
      const delivered = (await setup.observer.before(marker)).some((m) => m.payload === payload);
      assert.equal(delivered, predicted.decision === "allow", `${c.topic}: ${predicted.decision}`);
    }

    const denied = await mosquitto("mosquitto_sub", [
      ...common,
      "-i",
      "ms-denied",
      "-t",
      "agents/+/card",
      "-C",
      "1",
      "-W",
      "10",
    ]);
    assert.equal(
      (await simulate(setup, { action: "sub", topic: "agents/+/card", qos: 0 }, "ms")).decision,
      "deny",
    );
    assert.match(denied.stderr, /All subscription requests were denied/);

    assert.equal(
      (await simulate(setup, { action: "sub", topic: "agents/scout/card", qos: 0 }, "ms")).decision,
      "allow",
    );
    const child = spawnMosquitto("mosquitto_sub", [
      ...common,
      "-i",
      "ms-allowed",
      "-t",
      "agents/scout/card",
      "-C",
      "1",
      "-W",
      "20",
      "-v",
    ]);
    await until(
      () => setup.t.logs.some((line) => /SUBSCRIBE .* "agents\/scout\/card" .*granted/.test(line)),
      "mosquitto_sub's subscription",
    );
    const publisher = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "to-mosquitto");
    setup.clients.push(publisher);
    await publisher.publishAsync("agents/scout/card", "hello mosquitto", { qos: 1 });
    const output = await child.output();
    assert.equal(output.code, 0);
    assert.equal(
      new TextDecoder().decode(output.stdout).trim(),
      "agents/scout/card hello mosquitto",
    );
  });
});

Deno.test("a claim change applies to the next packet of a connected client", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    const client = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "claims-1");
    setup.clients.push(client);
    assert.deepEqual(await subscribeCodes(client, "agents/scout/inbox", 1), [128]);
    await client.publishAsync("agents/scout/card", "before", { qos: 1 });
    await client.publishAsync("markers/m", "marker-1", { qos: 1 });
    assert.deepEqual((await setup.observer.before("marker-1")).map((m) => m.payload), []);

    const set = await api(platform.apiUrl, setup.token, "PUT", "/v2/users/dev/claims/agent_id", {
      value: "scout",
    });
    assert.equal(set.status, 200);
    assert.deepEqual(await subscribeCodes(client, "agents/scout/inbox", 1), [1]);
    await client.publishAsync("agents/scout/card", "after", { qos: 1 });
    await client.publishAsync("markers/m", "marker-2", { qos: 1 });
    assert.deepEqual((await setup.observer.before("marker-2")).map((m) => m.payload), ["after"]);

    await api(platform.apiUrl, setup.token, "PUT", "/v2/users/dev/claims/agent_id", {
      value: "other",
    });
    await client.publishAsync("agents/scout/card", "renamed", { qos: 1 });
    await client.publishAsync("markers/m", "marker-3", { qos: 1 });
    assert.deepEqual((await setup.observer.before("marker-3")).map((m) => m.payload), []);

    await api(platform.apiUrl, setup.token, "DELETE", "/v2/users/dev/claims/agent_id");
    await client.publishAsync("agents/other/card", "removed", { qos: 1 });
    await client.publishAsync("markers/m", "marker-4", { qos: 1 });
    assert.deepEqual((await setup.observer.before("marker-4")).map((m) => m.payload), []);
    assert.ok(client.connected);
  });
});

Deno.test("a policy update applies to the next packet; $SYS follows the policy", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    const client = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "policy-1");
    setup.clients.push(client);
    assert.deepEqual(await subscribeCodes(client, "$SYS/#", 0), [128]);
    assert.deepEqual(await subscribeCodes(client, "#", 0), [128]);
    const sysWatcher = new Observer(client);
    const next = {
      ...POLICY,
      global: [...POLICY.global, { topic: "$SYS/app/#", action: "pub+sub" }],
    };
    const put = await api(platform.apiUrl, setup.token, "PUT", "/v2/acl/policy", next, {
      "if-match": '"2"',
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(await subscribeCodes(client, "$SYS/app/#", 0), [0]);
    await subscribeCodes(client, "markers/#", 0);
    await client.publishAsync("$SYS/app/status", "sys-allowed", { qos: 1 });
    await client.publishAsync("$SYS/other", "sys-denied", { qos: 1 });
    await client.publishAsync("$SYS/app/new/clients", "reserved?", { qos: 1 });
    await client.publishAsync("markers/m", "sys-marker", { qos: 1 });
    assert.deepEqual(
      (await sysWatcher.before("sys-marker")).map((m) => m.payload),
      ["sys-allowed"],
    );
    assert.ok(setup.t.logs.some((line) => /"\$SYS\/other" .*Denied - /.test(line)));
    assert.ok(
      setup.t.logs.some((line) => /"\$SYS\/app\/new\/clients": dropped, reserved/.test(line)),
    );
  });
});

Deno.test("organizations are isolated on the broker; client ids do not collide", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    const stranger = await platform.store.createUser({
      org_id: other.id,
      email: "stranger@example.com",
      password: PASSWORD,
      username: "dev",
      mqtt_password: "stranger-secret",
    });
    platform.store.putPolicy(
      other.id,
      JSON.stringify({ version: "2.2", default: "allow" }),
      null,
      stranger.id,
    );
    const theirs = await connect(platform.mqttUrl, "dev@other-org", "stranger-secret", "observer");
    setup.clients.push(theirs);
    const theirObserver = new Observer(theirs);
    assert.deepEqual(await subscribeCodes(theirs, "#", 0), [0]);
    const ours = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "iso-1");
    setup.clients.push(ours);
    await ours.publishAsync("public/ours", "ours", { qos: 1 });
    await ours.publishAsync("markers/m", "our-marker", { qos: 1 });
    assert.deepEqual((await setup.observer.before("our-marker")).map((m) => m.payload), ["ours"]);
    await theirs.publishAsync("public/theirs", "their-marker", { qos: 1 });
    assert.deepEqual(await theirObserver.before("their-marker"), []);
    assert.ok(
      setup.observer.client.connected,
      "a client id used in another org does not take over",
    );
    await ours.publishAsync("markers/m", "still-here", { qos: 1 });
    assert.deepEqual(await setup.observer.before("still-here"), []);
    assert.deepEqual(theirObserver.messages, [], "nothing of ours reached them");
  });
});

Deno.test("CONNECT: access tokens and MQTT passwords; bad credentials refused; revocation disconnects", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    const tokens = await login(platform.apiUrl);
    const byToken = await connect(platform.mqttUrl, setup.mqttUser, tokens.access_token, "tok-1");
    setup.clients.push(byToken);
    assert.ok(
      setup.t.logs.some((line) => line.includes('(client "tok-1"): accepted, access token')),
    );
    for (
      const [username, password] of [
        [setup.mqttUser, "wrong"],
        ["dev", PASSWORD],
        [`dev@nope`, PASSWORD],
        [`observer@${platform.organization.short_id}`, tokens.access_token],
        [setup.mqttUser, "csat_unknown"],
      ]
    ) {
      await assert.rejects(
        connect(platform.mqttUrl, username, password, "refused"),
        /Bad username or password/i,
        `${username} / ${password.slice(0, 4)}`,
      );
    }
    for (const line of setup.t.logs) assert.ok(!line.includes(tokens.access_token));
    const closed = new Promise<void>((resolve) => byToken.once("close", () => resolve()));
    const revoke = await fetch(`${platform.apiUrl}/oauth/revoke`, {
      method: "POST",
      body: new URLSearchParams({ token: tokens.refresh_token }),
    });
    await revoke.body?.cancel();
    await closed;
    assert.ok(
      setup.t.logs.some((line) => /closing .* \(client "tok-1"\): session revoked/.test(line)),
    );
  });
});

Deno.test("aedes control topics are refused even where the policy allows $SYS, empty broker id included", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    const open = { ...POLICY, global: [...POLICY.global, { topic: "$SYS/#", action: "pub+sub" }] };
    const put = await api(platform.apiUrl, setup.token, "PUT", "/v2/acl/policy", open, {
      "if-match": '"2"',
    });
    assert.equal(put.status, 200, put.text);
    const victim = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "victim");
    const attacker = await connect(platform.mqttUrl, setup.mqttUser, PASSWORD, "attacker");
    setup.clients.push(victim, attacker);
    let victimClosed = false;
    victim.on("close", () => victimClosed = true);
    const victimId = `${platform.organization.short_id}/victim`;
    for (
      const topic of ["$SYS//new/clients", "$SYS/x/new/clients", "$SYS//heartbeat", "$SYS//birth"]
    ) {
      await attacker.publishAsync(topic, victimId, { qos: 1 });
    }
    await attacker.publishAsync("markers/m", "control-marker", { qos: 1 });
    await setup.observer.before("control-marker");
    assert.equal(victimClosed, false, "the victim stays connected");
    assert.ok(setup.t.logs.some((line) => /"\$SYS\/\/new\/clients": dropped, reserved/.test(line)));
    await victim.publishAsync("markers/m", "victim-alive", { qos: 1 });
    await setup.observer.before("victim-alive");
  });
});

Deno.test("MQTT CONNECT: repeated bad passwords throttle that username, whatever comes next", async () => {
  await withSetup(async (setup) => {
    const { platform } = setup.t;
    const refusedWith = async (password: string) => {
      try {
        const client = await connect(platform.mqttUrl, setup.mqttUser, password, "guess");
        await client.endAsync();
        return null;
      } catch (error) {
        return String(error);
      }
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      assert.match((await refusedWith("wrong"))!, /Bad username or password|Not authorized/i);
    }
    assert.notEqual(await refusedWith(PASSWORD), null, "the right password waits as well");
    assert.ok(
      setup.t.logs.some((line) =>
        /refused, too many failed attempts; try again in \d+ s/.test(line)
      ),
    );
    const other = await connect(
      platform.mqttUrl,
      `observer@${platform.organization.short_id}`,
      "observer-secret",
      "other",
    );
    setup.clients.push(other);
  });
});

/**
 * Revocation of existing subscriptions, with mqtt.js and Debian's mosquitto clients: after a
 * policy update, a claim change or a change another process writes to the data directory,
 * a subscription the policy no longer allows delivers nothing more, live or queued for a
 * persistent session, and one allowed at a lower QoS delivers at that QoS.
 */

import assert from "node:assert/strict";
import { PlatformStore } from "../../src/platform/mod.ts";
import { api } from "../platform/support.ts";
import { Observer, subscribeCodes, until } from "../platform/mqtt_support.ts";
import { outputLines, withBroker } from "./platform_broker_support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "news/#", action: "pub+sub" },
    { topic: "jobs/#", action: "pub+sub" },
    { topic: "keep/#", action: "pub+sub" },
    { topic: "markers/#", action: "pub+sub" },
    { topic: "agents/+/inbox", action: "pub" },
  ],
  rules: [{ topic: "agents/{$self}/inbox", action: "sub", binding: "agent_id" }],
};

function without(topic: string, policy = POLICY) {
  return { ...policy, global: policy.global.filter((rule) => rule.topic !== topic) };
}

Deno.test("a policy update removes live subscriptions it no longer allows (mqtt.js, mosquitto_sub)", async () => {
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("live-1");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "news/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(client, "markers/#", 1), [1]);
    const mosquittoSub = await setup.mosquittoSub(
      "ms-live",
      ["-t", "news/#", "-t", "markers/#", "-q", "1", "-v", "-C", "2", "-W", "20"],
      2,
    );
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("news/a", "before", { qos: 1 });
    assert.deepEqual((await seen.before("before")).map((m) => m.payload), []);

    const revision = await setup.putPolicy(without("news/#"));
    await publisher.publishAsync("news/a", "after", { qos: 1 });
    await publisher.publishAsync("markers/m", "marker", { qos: 1 });
    assert.deepEqual((await seen.before("marker")).map((m) => m.payload), []);
    assert.deepEqual(await outputLines(mosquittoSub), ["news/a before", "markers/m marker"]);
    assert.ok(
      setup.t.logs.some((line) =>
        line.includes(
          `subscription "news/#" of ${setup.devLogin} (client "live-1") revoked ` +
            `after policy revision ${revision}: Denied - `,
        )
      ),
    );
    assert.ok(client.connected, "the connection stays");
    assert.deepEqual(
      await subscribeCodes(client, "news/#", 1),
      [128],
      "subscribing again is denied",
    );
  });
});

Deno.test("a claim change revokes a {$self} subscription of a connected client", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    platform.store.setClaim(platform.user.id, "agent_id", "scout");
    const client = await setup.connect("agent");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "agents/scout/inbox", 1), [1]);
    await subscribeCodes(client, "markers/#", 1);
    const sender = await setup.connect("sender");
    await sender.publishAsync("agents/scout/inbox", "hello scout", { qos: 1 });
    await sender.publishAsync("markers/m", "m1", { qos: 1 });
    assert.deepEqual((await seen.before("m1")).map((m) => m.payload), ["hello scout"]);

    platform.store.setClaim(platform.user.id, "agent_id", "ranger");
    await sender.publishAsync("agents/scout/inbox", "still there?", { qos: 1 });
    await sender.publishAsync("markers/m", "m2", { qos: 1 });
    assert.deepEqual((await seen.before("m2")).map((m) => m.payload), []);
    assert.ok(
      setup.t.logs.some((line) =>
        /subscription "agents\/scout\/inbox" .* revoked after a claim change of dev/.test(line)
      ),
    );
  });
});

Deno.test("a persistent session keeps nothing of a revoked subscription: queued or published while offline", async () => {
  await withBroker(POLICY, async (setup) => {
    const session = { clean: false, clientId: "worker" };
    let worker = await setup.connect("worker", session);
    assert.deepEqual(await subscribeCodes(worker, "jobs/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(worker, "keep/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(worker, "markers/#", 1), [1]);
    await worker.endAsync();

    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("jobs/1", "queued before the update", { qos: 1 });
    await setup.putPolicy(without("jobs/#"));
    await publisher.publishAsync("jobs/2", "published after the update", { qos: 1 });
    await publisher.publishAsync("keep/1", "still allowed", { qos: 1 });
    await until(
      () => setup.t.logs.some((line) => /"jobs\/#" .*offline session\) revoked/.test(line)),
      "the offline session's revocation",
    );

    const received: string[] = [];
    worker = await setup.connect("worker", session, (client) => {
      client.on("message", (_topic, payload) => received.push(payload.toString()));
    });
    await publisher.publishAsync("markers/m", "back", { qos: 1 });
    await until(() => received.includes("back"), "the marker");
    assert.deepEqual(received, ["still allowed", "back"]);
  });
});

Deno.test("mosquitto_sub -c: a subscription revoked while offline is not restored", async () => {
  await withBroker(POLICY, async (setup) => {
    const subscribe = await setup.mosquittoSub(
      "ms-persistent",
      ["-c", "-q", "1", "-t", "jobs/#", "-t", "markers/#", "-E"],
      2,
    );
    assert.equal((await subscribe.output()).code, 0);
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("jobs/1", "queued", { qos: 1 });
    await setup.putPolicy(without("jobs/#"));
    await publisher.publishAsync("jobs/2", "after", { qos: 1 });
    await until(
      () => setup.t.logs.some((line) => /"jobs\/#" .*offline session\) revoked/.test(line)),
      "the offline session's revocation",
    );
    await publisher.publishAsync("markers/m", "marker", { qos: 1 });
    const resumed = await setup.mosquittoSub(
      "ms-persistent",
      ["-c", "-q", "1", "-t", "markers/#", "-v", "-C", "1", "-W", "20"],
      1,
    );
    assert.deepEqual(await outputLines(resumed), ["markers/m marker"]);
  });
});

Deno.test("a change written by another process revokes subscriptions too", async () => {
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("watcher");
    const seen = new Observer(client);
    await subscribeCodes(client, "news/#", 0);
    await subscribeCodes(client, "markers/#", 0);
    const elsewhere = await PlatformStore.open(setup.t.dataDir);
    try {
      const { platform } = setup.t;
      elsewhere.putPolicy(
        platform.organization.id,
        JSON.stringify(without("news/#")),
        null,
        platform.user.id,
      );
    } finally {
      elsewhere.close();
    }
    await until(
      () =>
        setup.t.logs.some((line) => /"news\/#" .*revoked after a change to the data/.test(line)),
      "the revocation",
    );
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("news/x", "too late", { qos: 1 });
    await publisher.publishAsync("markers/m", "marker", { qos: 1 });
    assert.deepEqual(await seen.before("marker"), []);
  });
});

Deno.test("a policy that lowers a subscription's QoS lowers its deliveries", async () => {
  const capped = {
    ...POLICY,
    global: [
      ...without("news/#").global,
      { topic: "news/#", action: "pub" },
      { topic: "news/#", action: "sub", qos: [0, 1] },
    ],
  };
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("qos-watcher");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "news/+", 2), [2]);
    await setup.putPolicy(capped);
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("news/x", "capped", { qos: 2 });
    await until(() => seen.messages.length > 0, "the message");
    assert.deepEqual(seen.messages.map((m) => [m.payload, m.qos]), [["capped", 1]]);
    assert.ok(
      setup.t.logs.some((line) =>
        /"news\/\+" .* lowered from qos 2 to qos 1 after policy/.test(line)
      ),
    );
  });
});

Deno.test("another user resuming a persistent session gets none of its subscriptions or queue", async () => {
  const policy = {
    ...POLICY,
    rules: [...POLICY.rules, { topic: "private/dev/#", action: "pub+sub", user: "dev" }],
  };
  await withBroker(policy, async (setup) => {
    const session = { clean: false };
    const owner = await setup.connect("shared-id", session);
    assert.deepEqual(await subscribeCodes(owner, "private/dev/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(owner, "markers/#", 1), [1]);
    await owner.endAsync();
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("private/dev/diary", "for dev only", { qos: 1 });

    const mallory = await setup.addUser("mallory");
    const received: string[] = [];
    await setup.connect(
      "shared-id",
      { ...session, username: mallory, password: "mallory-secret" },
      (client) => client.on("message", (_topic, payload) => received.push(payload.toString())),
    );
    await publisher.publishAsync("markers/m", "marker", { qos: 1 });
    await until(() => received.includes("marker"), "the marker through the kept subscription");
    assert.deepEqual(received, ["marker"]);
    assert.ok(
      setup.t.logs.some((line) =>
        line.includes(`SUBSCRIBE ${mallory} "private/dev/#" qos 1 (restored session): Denied`) &&
        line.endsWith("removed from the session with its queued messages")
      ),
    );
  });
});

Deno.test("another organization's user with the same client id gets nothing of a persistent session; the owner still does", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    platform.store.putPolicy(
      other.id,
      JSON.stringify({ version: "2.2", default: "allow" }),
      null,
      platform.user.id,
    );
    const stranger = await setup.addUser("stranger", other);
    const session = { clean: false };
    const owner = await setup.connect("same-id", session);
    assert.deepEqual(await subscribeCodes(owner, "jobs/#", 1), [1]);
    await owner.endAsync();
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("jobs/1", "for our worker", { qos: 1 });

    const received: string[] = [];
    const theirs = await setup.connect(
      "same-id",
      { ...session, username: stranger, password: "stranger-secret" },
      (client) => client.on("message", (_topic, payload) => received.push(payload.toString())),
    );
    const theirSeen = new Observer(theirs);
    assert.deepEqual(await subscribeCodes(theirs, "#", 1), [1]);
    assert.deepEqual(await subscribeCodes(theirs, "$SYS/#", 1), [1]);
    await publisher.publishAsync("jobs/2", "also ours", { qos: 1 });
    await theirs.publishAsync("markers/m", "their-marker", { qos: 1 });
    assert.deepEqual(await theirSeen.before("their-marker"), []);
    assert.deepEqual(received, ["their-marker"], "no queued message of ours, no live one");
    await theirs.endAsync();

    const back: string[] = [];
    await setup.connect("same-id", session, (client) => {
      client.on("message", (_topic, payload) => back.push(payload.toString()));
    });
    await until(() => back.length >= 2, "our queued messages");
    assert.deepEqual(back, ["for our worker", "also ours"]);
  });
});

Deno.test("a claim change revokes a persistent session's {$self} subscription: nothing queued arrives", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    platform.store.setClaim(platform.user.id, "agent_id", "scout");
    const subscribe = await setup.mosquittoSub(
      "ms-agent",
      ["-c", "-q", "1", "-t", "agents/scout/inbox", "-t", "markers/#", "-E"],
      2,
    );
    assert.equal((await subscribe.output()).code, 0);
    const sender = await setup.connect("sender");
    await sender.publishAsync("agents/scout/inbox", "queued before", { qos: 1 });
    const renamed = await api(
      platform.apiUrl,
      setup.token,
      "PUT",
      "/v2/users/dev/claims/agent_id",
      { value: "ranger" },
    );
    assert.equal(renamed.status, 200, renamed.text);
    await sender.publishAsync("agents/scout/inbox", "published after", { qos: 1 });
    await sender.publishAsync("markers/m", "marker", { qos: 1 });
    const resumed = await setup.mosquittoSub(
      "ms-agent",
      ["-c", "-q", "1", "-t", "markers/#", "-v", "-C", "1", "-W", "20"],
      1,
    );
    assert.deepEqual(await outputLines(resumed), ["markers/m marker"]);
    assert.ok(
      setup.t.logs.some((line) =>
        /"agents\/scout\/inbox" .*offline session\) revoked after a claim change of dev/.test(line)
      ),
    );
  });
});

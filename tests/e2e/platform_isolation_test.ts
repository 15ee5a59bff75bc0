/**
 * Organizations on the local broker, tried as an attacker in another organization would with
 * real clients (mqtt.js and Debian's mosquitto_sub): the same client id does not reach the
 * other organization's persistent session or its queue, a will is delivered in its own
 * organization only, and `#` and `$SYS/#` see nothing of the others.
 */

import assert from "node:assert/strict";
import { Observer, spawnMosquitto, subscribeCodes, until } from "../platform/mqtt_support.ts";
import { outputLines, withBroker } from "./platform_broker_support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "#", action: "pub+sub" },
    { topic: "$SYS/#", action: "sub" },
  ],
};

Deno.test("another organization's client with the same id gets none of a persistent session's queue", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    platform.store.putPolicy(other.id, JSON.stringify(POLICY), null, platform.user.id);
    const stranger = await setup.addUser("stranger", other);
    const session = { clean: false };

    const owner = await setup.connect("shared-id", session);
    assert.deepEqual(await subscribeCodes(owner, "queue/#", 1), [1]);
    await owner.endAsync();
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("queue/secret", "queued for the owner", { qos: 1 });

    // The stranger takes the same client id, asks for the session and subscribes to everything.
    const received: string[] = [];
    const theirs = await setup.connect(
      "shared-id",
      { ...session, username: stranger, password: "stranger-secret" },
      (client) => client.on("message", (_topic, payload) => received.push(payload.toString())),
    );
    assert.deepEqual(await subscribeCodes(theirs, "#", 1), [1]);
    assert.deepEqual(await subscribeCodes(theirs, "$SYS/#", 0), [0]);
    await theirs.publishAsync("markers/m", "their marker", { qos: 1 });
    await until(() => received.includes("their marker"), "the stranger's own marker");
    await publisher.publishAsync("queue/secret", "live for the owner", { qos: 1 });
    await theirs.publishAsync("markers/m", "their second marker", { qos: 1 });
    await until(() => received.includes("their second marker"), "the stranger's second marker");
    assert.deepEqual(received, ["their marker", "their second marker"]);

    // The owner's session was neither taken over nor emptied: both messages wait for it.
    const seen: string[] = [];
    await setup.connect(
      "shared-id",
      session,
      (client) => client.on("message", (_topic, payload) => seen.push(payload.toString())),
    );
    await until(() => seen.length >= 2, "the owner's queued messages");
    assert.deepEqual(seen.sort(), ["live for the owner", "queued for the owner"]);
  });
});

Deno.test("a will is published in its own organization only", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    platform.store.putPolicy(other.id, JSON.stringify(POLICY), null, platform.user.id);
    const stranger = await setup.addUser("stranger", other);

    const sub = spawnMosquitto("mosquitto_sub", [
      ...setup.mosquittoArgs("their-sub", stranger),
      // The first message it receives ends it: a leaked will would come before the marker.
      ...["-t", "#", "-t", "$SYS/#", "-F", "%t %p", "-C", "1", "-W", "10"],
    ]);
    await until(
      () =>
        setup.t.logs.filter((line) =>
          line.includes(`SUBSCRIBE ${stranger}`) && line.includes("granted qos")
        ).length >= 2,
      "mosquitto_sub's subscriptions",
    );
    const ours = await setup.connect("ours-sub");
    const observed = new Observer(ours);
    await subscribeCodes(ours, "wills/#", 1);

    const dying = await setup.connect("dying", {
      will: { topic: "wills/dying", payload: Buffer.from("gone"), qos: 1, retain: true },
    });
    dying.stream.destroy(); // no DISCONNECT: the broker publishes the will
    await observed.before("gone");

    const theirs = await setup.connect("their-marker", {
      username: stranger,
      password: "stranger-secret",
    });
    await theirs.publishAsync("markers/m", "their marker", { qos: 1 });
    await until(
      () => setup.t.logs.some((line) => line.includes(`PUBLISH ${stranger} "markers/m"`)),
      "the stranger's marker",
    );
    await theirs.endAsync();
    const lines = await outputLines(sub);
    assert.deepEqual(lines, ["markers/m their marker"]);
    assert.deepEqual(
      lines.filter((line) => line.includes("gone") || line.startsWith("wills/")),
      [],
    );
  });
});

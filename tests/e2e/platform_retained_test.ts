/**
 * Retained messages on the local broker, with mqtt.js and Debian's mosquitto clients: kept
 * and delivered within an organization, never across organizations, never lost when
 * publishers race, and delivered at no more than the QoS the subscription was granted.
 */

import assert from "node:assert/strict";
import { connect as rawConnect } from "node:net";
import { Observer, subscribeCodes, until } from "../platform/mqtt_support.ts";
import { outputLines, withBroker } from "./platform_broker_support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "r/#", action: "pub+sub" },
    { topic: "capped/#", action: "pub+sub", qos: [0, 1] },
    { topic: "markers/#", action: "pub+sub" },
    { topic: "$SYS/#", action: "sub" },
  ],
};

Deno.test("retained messages reach later subscribers of the organization, never another's", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    platform.store.putPolicy(other.id, JSON.stringify(POLICY), null, platform.user.id);
    const stranger = await setup.addUser("stranger", other);

    await setup.mosquittoPub("ours-pub", ["-t", "r/shared", "-m", "ours", "-r", "-q", "1"]);
    const theirs = await setup.connect("theirs-pub", {
      username: stranger,
      password: "stranger-secret",
    });
    await theirs.publishAsync("r/shared", "theirs", { qos: 1, retain: true });
    await theirs.publishAsync("r/only-theirs", "theirs only", { qos: 0, retain: true });

    const sub = await setup.mosquittoSub("ours-sub", [
      "-t",
      "r/#",
      "-F",
      "%r %t %p",
      "-C",
      "1",
      "-W",
      "10",
    ], 1);
    assert.deepEqual(await outputLines(sub), ["1 r/shared ours"], "mosquitto_sub gets ours only");

    const theirSubscriber = await setup.connect("theirs-sub", {
      username: stranger,
      password: "stranger-secret",
    });
    const seen = new Observer(theirSubscriber);
    await subscribeCodes(theirSubscriber, "r/#", 1);
    await subscribeCodes(theirSubscriber, "markers/#", 1);
    await theirs.publishAsync("markers/m", "their-marker", { qos: 1 });
    const received = await seen.before("their-marker");
    assert.deepEqual(
      received.map((m) => `${m.retain} ${m.topic} ${m.payload}`).sort(),
      ["true r/only-theirs theirs only", "true r/shared theirs"],
    );

    await setup.mosquittoPub("ours-clear", ["-t", "r/shared", "-n", "-r"]);
    const ours = await setup.connect("ours-late");
    const late = new Observer(ours);
    await subscribeCodes(ours, "r/#", 1);
    await subscribeCodes(ours, "markers/#", 1);
    await ours.publishAsync("markers/m", "our-marker", { qos: 1 });
    assert.deepEqual(await late.before("our-marker"), [], "an empty retained publish clears ours");
  });
});

Deno.test("retained messages are delivered at no more than the granted QoS", async () => {
  await withBroker(POLICY, async (setup) => {
    await setup.mosquittoPub("capped-pub", ["-t", "capped/x", "-m", "kept", "-r", "-q", "1"]);
    const client = await setup.connect("capped-sub");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "capped/+", 2), [1]);
    await until(() => seen.messages.length > 0, "the retained message");
    assert.deepEqual(seen.messages, [{ topic: "capped/x", payload: "kept", retain: true, qos: 1 }]);
    assert.deepEqual(await subscribeCodes(client, "capped/#", 0), [0]);
    await until(() => seen.messages.length > 1, "the retained message again");
    assert.equal(seen.messages[1].qos, 0);
  });
});

/** An MQTT 3.1.1 frame: fixed header byte, remaining length, body. */
function frame(first: number, body: number[]): number[] {
  const length: number[] = [];
  let rest = body.length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    length.push(byte);
  } while (rest > 0);
  return [first, ...length, ...body];
}

function text(value: string): number[] {
  const bytes = [...new TextEncoder().encode(value)];
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

Deno.test("a retained PUBLISH followed at once by another reaches live subscribers (aedes lost it)", async () => {
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("live-sub");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "r/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(client, "markers/#", 1), [1]);
    // One TCP write: CONNECT, a retained QoS 0 PUBLISH, a plain one, DISCONNECT. aedes stores
    // the retained one first and routes the plain one meanwhile.
    const bytes = [
      ...frame(0x10, [
        ...text("MQTT"),
        4,
        0xc2,
        0,
        60,
        ...text("raw-pub"),
        ...text(setup.devLogin),
        ...text("correct horse battery staple"),
      ]),
      ...frame(0x31, [...text("r/first"), ...new TextEncoder().encode("retained")]),
      ...frame(0x30, [...text("markers/m"), ...new TextEncoder().encode("plain")]),
      0xe0,
      0x00,
    ];
    const socket = rawConnect(Number(setup.port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(new Uint8Array(bytes));
    await until(() => seen.messages.some((m) => m.payload === "plain"), "the plain message");
    await client.publishAsync("markers/m", "after", { qos: 1 });
    await until(() => seen.messages.some((m) => m.payload === "after"), "the marker");
    socket.destroy();
    assert.deepEqual(
      seen.messages.map((m) => m.payload).sort(),
      ["after", "plain", "retained"],
      "the retained message reached the live subscriber",
    );
  });
});

Deno.test("concurrent publishers: every retained message reaches live subscribers and is kept", async () => {
  await withBroker(POLICY, async (setup) => {
    const live = await setup.connect("live");
    const seen = new Observer(live);
    await subscribeCodes(live, "r/#", 1);
    await subscribeCodes(live, "$SYS/#", 1);
    const publishers = [];
    for (let i = 0; i < 10; i++) publishers.push(await setup.connect(`pub-${i}`));
    await Promise.all(publishers.flatMap((publisher, i) =>
      [0, 1, 2].map((k) =>
        Promise.all([
          publisher.publishAsync(`r/${i}/${k}`, `m-${i}-${k}`, {
            qos: (k % 2) as 0 | 1,
            retain: true,
          }),
          publisher.publishAsync(`r/plain/${i}`, `p-${i}-${k}`, { qos: 0 }),
        ])
      )
    ));
    await live.publishAsync("r/done", "done", { qos: 1 });
    const retainedLive = (await seen.before("done")).filter((m) => m.payload.startsWith("m-"));
    assert.equal(retainedLive.length, 30, "live: every retained message");

    const late = await setup.connect("late");
    const lateSeen = new Observer(late);
    await subscribeCodes(late, "r/+/+", 1);
    await until(() => lateSeen.messages.length >= 30, "30 retained messages");
    assert.deepEqual(
      lateSeen.messages.map((m) => m.payload).sort(),
      Array.from({ length: 10 }, (_, i) => [0, 1, 2].map((k) => `m-${i}-${k}`)).flat().sort(),
    );
  });
});

Deno.test("a retained $SYS message stays in its organization", async () => {
  const policy = { ...POLICY, global: [...POLICY.global, { topic: "$SYS/app/#", action: "pub" }] };
  await withBroker(policy, async (setup) => {
    const { platform } = setup.t;
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    platform.store.putPolicy(
      other.id,
      JSON.stringify({ version: "2.2", default: "allow" }),
      null,
      platform.user.id,
    );
    const stranger = await setup.addUser("stranger", other);
    await setup.mosquittoPub("sys-pub", ["-t", "$SYS/app/status", "-m", "ours", "-r", "-q", "1"]);

    const theirs = await setup.connect("sys-theirs", {
      username: stranger,
      password: "stranger-secret",
    });
    const theirSeen = new Observer(theirs);
    assert.deepEqual(await subscribeCodes(theirs, "$SYS/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(theirs, "#", 1), [1]);
    await theirs.publishAsync("markers/m", "their-marker", { qos: 1 });
    assert.deepEqual(await theirSeen.before("their-marker"), []);

    const sub = await setup.mosquittoSub("sys-ours", [
      "-t",
      "$SYS/#",
      "-F",
      "%r %t %p",
      "-C",
      "1",
      "-W",
      "10",
    ], 1);
    assert.deepEqual(await outputLines(sub), ["1 $SYS/app/status ours"]);
  });
});

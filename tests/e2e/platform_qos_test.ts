/**
 * Delivery QoS on the local broker, with mqtt.js and Debian's mosquitto_sub: never above
 * what the policy granted the subscription, whatever its filter; one copy at the highest
 * granted QoS when subscriptions overlap.
 */

import assert from "node:assert/strict";
import { Observer, subscribeCodes, until } from "../platform/mqtt_support.ts";
import { outputLines, withBroker } from "./platform_broker_support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "q/#", action: "pub" },
    { topic: "q/#", action: "sub", qos: [0, 1] },
    { topic: "o/#", action: "pub+sub" },
  ],
};

Deno.test("a QoS 2 publish reaches wildcard subscribers at the granted QoS 1 (mqtt.js, mosquitto_sub)", async () => {
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("wild");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "q/#", 2), [1]);
    assert.deepEqual(await subscribeCodes(client, "q/+/deep", 2), [1]);
    const exact = await setup.connect("exact");
    const exactSeen = new Observer(exact);
    assert.deepEqual(await subscribeCodes(exact, "q/x", 2), [1]);
    const mosquittoSub = await setup.mosquittoSub(
      "ms-wild",
      ["-t", "q/+", "-q", "2", "-F", "%q %t %p", "-C", "1", "-W", "20"],
      1,
    );

    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("q/x", "two", { qos: 2 });
    await publisher.publishAsync("q/y/deep", "deep", { qos: 2 });
    await until(() => seen.messages.length >= 2, "both messages");
    await until(() => exactSeen.messages.length >= 1, "the exact subscriber's message");
    assert.deepEqual(
      seen.messages.map((m) => [m.topic, m.qos]).sort(),
      [["q/x", 1], ["q/y/deep", 1]],
      "one copy each, at QoS 1",
    );
    assert.deepEqual(exactSeen.messages.map((m) => m.qos), [1]);
    assert.deepEqual(await outputLines(mosquittoSub), ["1 q/x two"]);
  });
});

Deno.test("overlapping subscriptions: one copy, at the highest QoS granted", async () => {
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("overlap");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "o/#", 0), [0]);
    assert.deepEqual(await subscribeCodes(client, "o/+", 1), [1]);
    const publisher = await setup.connect("publisher");
    await publisher.publishAsync("o/x", "one", { qos: 2 });
    await publisher.publishAsync("o/y/z", "deep", { qos: 1 });
    await client.publishAsync("o/done", "done", { qos: 0 });
    const received = await seen.before("done");
    assert.deepEqual(received.map((m) => [m.payload, m.qos]), [["one", 1], ["deep", 0]]);
  });
});

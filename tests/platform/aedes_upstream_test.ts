/**
 * Plain aedes 1.2.0, without our layer: the upstream behaviours the broker works around
 * (docs/platform.md, "Limits of the local broker"), and the internals it relies on. When an
 * aedes upgrade changes any of them, a test here fails: revisit `src/platform/broker_*.ts`.
 */

import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { Aedes } from "npm:aedes@1.2.0";
import mqtt, { type MqttClient } from "npm:mqtt@5.16.0";
import { Observer, until } from "./mqtt_support.ts";
import { brokerInternals, clientInternals } from "../../src/platform/aedes_internals.ts";

async function withPlainAedes(
  fn: (
    aedes: Aedes,
    connect: (id: string, options?: object) => Promise<MqttClient>,
  ) => Promise<void>,
) {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: MqttClient[] = [];
  try {
    await fn(aedes, async (clientId, options = {}) => {
      const client = await mqtt.connectAsync(url, {
        clientId,
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...options,
      });
      clients.push(client);
      return client;
    });
  } finally {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => {})));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

Deno.test("upstream: a retained publish routed after a later packet is lost (aedes #994, #955)", async () => {
  await withPlainAedes(async (aedes, connect) => {
    const subscriber = await connect("sub");
    const seen = new Observer(subscriber);
    await subscriber.subscribeAsync("r/#", { qos: 1 });
    const publish = (topic: string, retain: boolean) =>
      aedes.publish(
        { cmd: "publish", topic, payload: Buffer.from(topic), qos: 0, retain, dup: false },
        () => {},
      );
    publish("r/retained", true);
    publish("r/plain", false);
    publish("r/last", false);
    await until(() => seen.messages.some((m) => m.topic === "r/last"), "the last message");
    assert.deepEqual(seen.messages.map((m) => m.topic), ["r/plain", "r/last"]);
  });
});

Deno.test("upstream: a QoS 1 will is lost for a subscriber of # and $SYS/# (aedes #994, #955)", async () => {
  await withPlainAedes(async (_aedes, connect) => {
    const subscriber = await connect("sub");
    const seen = new Observer(subscriber);
    await subscriber.subscribeAsync(["#", "$SYS/#"], { qos: 1 });
    const dying = await connect("dying", {
      will: { topic: "wills/x", payload: "gone", qos: 1, retain: false },
    });
    (dying as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(
      () => seen.messages.some((m) => m.topic.endsWith("/disconnect/clients")),
      "aedes's disconnect notice",
    );
    await subscriber.publishAsync("after", "after", { qos: 1 });
    await until(() => seen.messages.some((m) => m.topic === "after"), "the marker");
    assert.equal(seen.messages.some((m) => m.topic === "wills/x"), false);
  });
});

Deno.test("upstream: a wildcard subscription gets messages above its QoS (aedes #208 fixed exact filters)", async () => {
  await withPlainAedes(async (_aedes, connect) => {
    const subscriber = await connect("sub");
    const seen = new Observer(subscriber);
    await subscriber.subscribeAsync("q/#", { qos: 1 });
    await subscriber.subscribeAsync("e/x", { qos: 1 });
    await subscriber.publishAsync("q/x", "wild", { qos: 2 });
    await subscriber.publishAsync("e/x", "exact", { qos: 2 });
    await until(() => seen.messages.length === 2, "both messages");
    assert.deepEqual(seen.messages.map((m) => [m.payload, m.qos]), [["wild", 2], ["exact", 1]]);
  });
});

Deno.test("upstream: a PUBLISH over 100 levels closes the connection", async () => {
  await withPlainAedes(async (_aedes, connect) => {
    const client = await connect("deep");
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish(Array.from({ length: 101 }, (_, i) => `l${i}`).join("/"), "x", { qos: 0 });
    await closed;
  });
});

Deno.test("the aedes internals the broker relies on are where it expects them", async () => {
  await withPlainAedes(async (aedes, connect) => {
    const subscriber = await connect("sub");
    await subscriber.subscribeAsync("a/#", { qos: 1 });
    const broker = brokerInternals(aedes);
    for (
      const method of [
        "storeRetained",
        "createRetainedStreamCombi",
        "createRetainedStream",
        "outgoingEnqueueCombi",
        "subscriptionsByClient",
        "addSubscriptions",
        "removeSubscriptions",
      ] as const
    ) {
      assert.equal(typeof broker.persistence[method], "function", method);
    }
    assert.equal(typeof broker.subscribe, "function");
    assert.equal(typeof broker.unsubscribe, "function");
    const client = broker.clients["sub"];
    assert.ok(client, "clients by id");
    const internals = clientInternals(client);
    assert.equal(typeof internals.deliver0, "function");
    assert.equal(typeof internals.deliverQoS, "function");
    assert.equal(typeof internals.duplicates, "object");
    assert.equal(internals.subscriptions["a/#"].qos, 1);
    assert.equal(typeof internals.subscriptions["a/#"].func, "function");
    assert.equal(typeof internals._parser?.prependListener, "function");
    assert.equal(internals.clean, true);
  });
});

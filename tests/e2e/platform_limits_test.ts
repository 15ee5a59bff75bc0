/**
 * What the local broker cannot do, refused clearly, with mqtt.js and Debian's mosquitto
 * clients: topics over 100 levels are denied as `acl simulate` predicts (the connection
 * stays), `$share` subscriptions get SUBACK 0x80 with a logged reason, and QoS 1 wills reach
 * subscribers of `#` and `$SYS/#`.
 */

import assert from "node:assert/strict";
import { MAX_TOPIC_LEVELS } from "../../src/acl/mod.ts";
import { api } from "../platform/support.ts";
import { mosquitto, Observer, subscribeCodes, until } from "../platform/mqtt_support.ts";
import { outputLines, withBroker } from "./platform_broker_support.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "deep/#", action: "pub+sub" },
    { topic: "sh/#", action: "pub+sub" },
    { topic: "wills/#", action: "pub+sub" },
    { topic: "markers/#", action: "pub+sub" },
    { topic: "#", action: "sub" },
    { topic: "$SYS/#", action: "sub" },
  ],
};

function deep(levels: number): string {
  return ["deep", ...Array.from({ length: levels - 1 }, (_, i) => `l${i}`)].join("/");
}

Deno.test("topics over 100 levels are denied as acl simulate says; the connection stays", async () => {
  await withBroker(POLICY, async (setup) => {
    const { platform } = setup.t;
    const tooDeep = deep(MAX_TOPIC_LEVELS + 1);
    const deepest = deep(MAX_TOPIC_LEVELS);
    for (const action of ["pub", "sub"]) {
      const simulated = await api(platform.apiUrl, setup.token, "POST", "/v2/acl/simulate", {
        request: { client: { username: "dev" }, action, topic: tooDeep, qos: 1 },
      });
      assert.equal(simulated.body.decision, "deny");
      assert.equal(simulated.body.reason, "invalid_topic");
      assert.match(simulated.body.detail, /101 levels; CloudSignal allows at most 100/);
    }

    const client = await setup.connect("deep");
    const seen = new Observer(client);
    assert.deepEqual(await subscribeCodes(client, "deep/#", 1), [1]);
    assert.deepEqual(await subscribeCodes(client, `${tooDeep}/#`, 1), [128]);
    assert.deepEqual(await subscribeCodes(client, tooDeep, 0), [128]);
    await client.unsubscribeAsync(tooDeep);
    await client.publishAsync(tooDeep, "too deep", { qos: 1 });
    await client.publishAsync(deepest, "deepest", { qos: 1 });
    await setup.mosquittoPub("ms-deep", ["-t", tooDeep, "-m", "too deep too", "-q", "1"]);
    await client.publishAsync("deep/end", "end", { qos: 1 });
    assert.deepEqual((await seen.before("end")).map((m) => m.payload), ["deepest"]);
    assert.ok(client.connected, "the connection stays");
    assert.ok(
      setup.t.logs.some((line) =>
        line.includes(`PUBLISH ${setup.devLogin} "${tooDeep}" qos 1: Denied - `) &&
        line.includes("101 levels")
      ),
    );
    assert.ok(
      setup.t.logs.some((line) =>
        line.includes(`SUBSCRIBE ${setup.devLogin} "${tooDeep}/#" qos 1: Denied - `) &&
        line.endsWith("SUBACK 0x80")
      ),
    );
  });
});

Deno.test("$share subscriptions are refused with SUBACK 0x80 and a logged reason", async () => {
  await withBroker(POLICY, async (setup) => {
    const client = await setup.connect("sharer");
    assert.deepEqual(await subscribeCodes(client, "$share/g1/sh/x", 1), [128]);
    const refused = await mosquitto("mosquitto_sub", [
      ...setup.mosquittoArgs("ms-sharer"),
      "-t",
      "$share/g1/sh/#",
      "-C",
      "1",
      "-W",
      "10",
    ]);
    assert.match(refused.stderr, /All subscription requests were denied/);
    assert.equal(
      setup.t.logs.filter((line) =>
        /SUBSCRIBE .* "\$share\/g1\/sh\/[^"]*" qos \d: refused, shared subscriptions need MQTT 5/
          .test(line)
      ).length,
      2,
    );
    const seen = new Observer(client);
    await subscribeCodes(client, "markers/#", 0);
    await client.publishAsync("sh/x", "not for the group", { qos: 1 });
    await client.publishAsync("markers/m", "marker", { qos: 1 });
    assert.deepEqual(await seen.before("marker"), [], "nothing arrives as $share/g1/sh/x");
  });
});

Deno.test("QoS 1 wills reach a subscriber of # and $SYS/# (mosquitto_pub --will-*, mqtt.js)", async () => {
  await withBroker(POLICY, async (setup) => {
    const observer = await setup.connect("observer");
    const seen = new Observer(observer);
    assert.deepEqual(await subscribeCodes(observer, "#", 1), [1]);
    assert.deepEqual(await subscribeCodes(observer, "$SYS/#", 1), [1]);
    const mosquittoSub = await setup.mosquittoSub(
      "ms-observer",
      ["-t", "#", "-t", "$SYS/#", "-q", "1", "-v", "-C", "2", "-W", "20"],
      2,
    );

    const dying = await setup.connect("dying", {
      will: { topic: "wills/dying", payload: "gone", qos: 1, retain: false },
    });
    (dying as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(() => seen.messages.some((m) => m.payload === "gone"), "the mqtt.js will");

    const publisher = new Deno.Command("mosquitto_sub", {
      args: [
        ...setup.mosquittoArgs("will-sender"),
        "-t",
        "wills/none",
        "--will-topic",
        "wills/mosquitto",
        "--will-payload",
        "gone too",
        "--will-qos",
        "1",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await until(
      () => setup.t.logs.some((line) => line.includes('"wills/none"') && line.includes("granted")),
      "the will sender's subscription",
    );
    publisher.kill("SIGKILL");
    await publisher.status;
    await until(() => seen.messages.some((m) => m.payload === "gone too"), "mosquitto's will");
    assert.deepEqual(
      seen.messages.map((m) => `${m.topic} ${m.payload} ${m.qos}`),
      ["wills/dying gone 1", "wills/mosquitto gone too 1"],
    );
    assert.deepEqual(await outputLines(mosquittoSub), [
      "wills/dying gone",
      "wills/mosquitto gone too",
    ]);
  });
});

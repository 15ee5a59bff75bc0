/**
 * CONNECT on the local broker, with mqtt.js and Debian's mosquitto clients: simultaneous
 * sign-ins with the right password all succeed while guesses are still throttled, MQTT 3.1
 * clients may use client ids up to 3.1's 23 characters, and MQTT 5 gets a refusal the
 * client can report.
 */

import assert from "node:assert/strict";
import { MAX_LOGIN_FAILURES } from "../../src/platform/mod.ts";
import { PASSWORD } from "../platform/support.ts";
import { mosquitto } from "../platform/mqtt_support.ts";
import { withBroker } from "./platform_broker_support.ts";

const POLICY = { version: "2.2", default: "deny", global: [{ topic: "x/#", action: "pub+sub" }] };

Deno.test("8 simultaneous CONNECTs with the right password all succeed (mqtt.js, mosquitto_pub)", async () => {
  await withBroker(POLICY, async (setup) => {
    const [clients, publishes] = await Promise.all([
      Promise.allSettled(
        Array.from({ length: 4 }, (_, i) => setup.connect(`fair-${i}`, { password: PASSWORD })),
      ),
      Promise.all(Array.from({ length: 4 }, (_, i) =>
        mosquitto("mosquitto_pub", [
          ...setup.mosquittoArgs(`fair-ms-${i}`, setup.devLogin, PASSWORD),
          "-t",
          "x/y",
          "-m",
          "z",
        ]))),
    ]);
    assert.deepEqual(
      clients.map((client) => client.status === "fulfilled" ? "connected" : String(client.reason)),
      Array(4).fill("connected"),
    );
    assert.deepEqual(publishes.map((result) => result.stderr), Array(4).fill(""));
    assert.equal(setup.t.logs.filter((line) => line.includes("accepted, MQTT password")).length, 8);
  });
});

Deno.test("simultaneous guesses: only finished failures count, and then the name is throttled", async () => {
  await withBroker(POLICY, async (setup) => {
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        mosquitto("mosquitto_pub", [
          ...setup.mosquittoArgs(`guess-${i}`, setup.devLogin, `wrong-${i}`),
          "-t",
          "x/y",
          "-m",
          "z",
        ])),
    );
    for (const guess of guesses) assert.match(guess.stderr, /not authorised|bad user name/i);
    const wrong = setup.t.logs.filter((line) => line.endsWith("refused, bad username or password"));
    const throttled = setup.t.logs.filter((line) => /refused, too many failed attempts/.test(line));
    assert.equal(wrong.length, MAX_LOGIN_FAILURES, "as many password checks as allowed failures");
    assert.equal(throttled.length, 12 - MAX_LOGIN_FAILURES);
    const right = await mosquitto("mosquitto_pub", [
      ...setup.mosquittoArgs("right", setup.devLogin, PASSWORD),
      "-t",
      "x/y",
      "-m",
      "z",
    ]);
    assert.notEqual(right.code, 0, "the right password waits as well");
  });
});

Deno.test("MQTT 3.1 clients may send client ids of up to 23 characters", async () => {
  await withBroker(POLICY, async (setup) => {
    const v31 = (id: string) =>
      mosquitto("mosquitto_pub", [
        ...setup.mosquittoArgs(id).map((arg) => arg === "mqttv311" ? "mqttv31" : arg),
        "-t",
        "x/y",
        "-m",
        id,
      ]);
    const fifteen = await v31("abcdefghijklmno");
    assert.equal(fifteen.code, 0, fifteen.stderr);
    const longest = await v31("abcdefghijklmnopqrstuvw");
    assert.equal(longest.code, 0, longest.stderr);
    const tooLong = await v31("abcdefghijklmnopqrstuvwx");
    assert.match(tooLong.stderr, /identifier rejected/);
    assert.ok(
      setup.t.logs.some((line) => /MQTT 3\.1 client id of 24 characters/.test(line)),
      "the refusal is logged",
    );
    const client = await setup.connect("mqttjs-v31-abcd", {
      protocolVersion: 3,
      protocolId: "MQIsdp",
    });
    assert.ok(client.connected);
  });
});

Deno.test("an MQTT 5 CONNECT gets a clear refusal (mosquitto_pub -V mqttv5, mqtt.js)", async () => {
  await withBroker(POLICY, async (setup) => {
    const result = await mosquitto("mosquitto_pub", [
      ...setup.mosquittoArgs("v5").map((arg) => arg === "mqttv311" ? "mqttv5" : arg),
      "-t",
      "x/y",
      "-m",
      "z",
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Unsupported Protocol Version/);
    let reasonString: unknown;
    await assert.rejects(
      setup.connect(
        "mqttjs-v5",
        { protocolVersion: 5 },
        (client) =>
          client.on("packetreceive", (packet) => {
            if (packet.cmd === "connack") reasonString = packet.properties?.reasonString;
          }),
      ),
      (error: Error & { code?: number }) => {
        assert.equal(error.code, 0x84);
        assert.match(error.message, /Unsupported Protocol Version/);
        return true;
      },
    );
    assert.match(String(reasonString), /speaks MQTT 3\.1\.1 only.*connect with MQTT 3\.1\.1/);
    const refusals = setup.t.logs.filter((line) =>
      line.includes(`CONNECT ${setup.devLogin}: refused, MQTT 5 is not supported`)
    );
    assert.equal(refusals.length, 2, "both refusals are logged");
  });
});

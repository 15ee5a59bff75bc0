/**
 * A platform with a policy and MQTT users for the broker's end-to-end tests, with helpers
 * to connect mqtt.js clients and to run Debian's mosquitto clients against it.
 */

import assert from "node:assert/strict";
import mqtt, { type IClientOptions, type MqttClient } from "npm:mqtt@5.16.0";
import { api, login, PASSWORD, startTestPlatform, type TestPlatform } from "../platform/support.ts";
import type { Organization } from "../../src/platform/mod.ts";
import { mosquitto, spawnMosquitto, until } from "../platform/mqtt_support.ts";

/** A platform whose seeded organization has `policy`, and what the tests need around it. */
export interface BrokerSetup {
  t: TestPlatform;
  /** An access token of the seeded user `dev`. */
  token: string;
  /** The MQTT port as a string (for mosquitto's `-p`). */
  port: string;
  /** `dev@<short id>` */
  devLogin: string;
  /**
   * Connects an mqtt.js client as `dev` with its access token (MQTT 3.1.1 unless `options`
   * says otherwise); it is closed at the end.
   */
  connect(
    clientId: string,
    options?: IClientOptions,
    prepare?: (client: MqttClient) => void,
  ): Promise<MqttClient>;
  /** Replaces the organization's policy through the API. */
  putPolicy(policy: object): Promise<number>;
  /** Adds a user with an MQTT password to the organization (or `organization`). */
  addUser(username: string, organization?: Organization): Promise<string>;
  /** mosquitto's connection arguments for `login` (default `dev`), MQTT 3.1.1. */
  mosquittoArgs(clientId: string, login?: string, password?: string): string[];
  /** Runs mosquitto_pub to completion and asserts it succeeded. */
  mosquittoPub(clientId: string, args: string[]): Promise<void>;
  /** Starts mosquitto_sub and waits until the broker granted its subscriptions. */
  mosquittoSub(clientId: string, args: string[], subscriptions: number): Promise<Deno.ChildProcess>;
}

/** Runs `fn` with a fresh platform whose organization has `policy`. */
export async function withBroker(policy: object, fn: (setup: BrokerSetup) => Promise<void>) {
  const t = await startTestPlatform({ logAllowedPublishes: true });
  const clients: MqttClient[] = [];
  const children: Deno.ChildProcess[] = [];
  try {
    const { platform } = t;
    const token = (await login(platform.apiUrl)).access_token;
    const port = new URL(platform.mqttUrl).port;
    const devLogin = `dev@${platform.organization.short_id}`;
    const secrets = new Map<string, string>([[devLogin, PASSWORD]]);
    const setup: BrokerSetup = {
      t,
      token,
      port,
      devLogin,
      connect: async (clientId, options = {}, prepare) => {
        const client = mqtt.connect(platform.mqttUrl, {
          username: devLogin,
          password: token,
          clientId,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          ...options,
        });
        clients.push(client);
        prepare?.(client);
        await new Promise<void>((resolve, reject) => {
          client.once("connect", () => resolve());
          client.once("error", reject);
        });
        return client;
      },
      putPolicy: async (next) => {
        const put = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", next, {
          "if-match": "*",
        });
        assert.equal(put.status, 200, put.text);
        return put.body.revision;
      },
      addUser: async (username, organization) => {
        const org = organization ?? platform.organization;
        const secret = `${username}-secret`;
        await platform.store.createUser({
          org_id: org.id,
          email: `${username}@${org.short_id}.example.com`,
          password: PASSWORD,
          username,
          mqtt_password: secret,
        });
        secrets.set(`${username}@${org.short_id}`, secret);
        return `${username}@${org.short_id}`;
      },
      mosquittoArgs: (clientId, as = devLogin, password = secrets.get(as) ?? PASSWORD) => [
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "-u",
        as,
        "-P",
        password,
        "-V",
        "mqttv311",
        "-i",
        clientId,
      ],
      mosquittoPub: async (clientId, args) => {
        const result = await mosquitto("mosquitto_pub", [
          ...setup.mosquittoArgs(clientId),
          ...args,
        ]);
        assert.equal(result.code, 0, result.stderr);
      },
      mosquittoSub: async (clientId, args, subscriptions) => {
        const before = t.logs.length;
        const child = spawnMosquitto("mosquitto_sub", [...setup.mosquittoArgs(clientId), ...args]);
        children.push(child);
        await until(
          () =>
            t.logs.slice(before).filter((line) =>
              line.includes(`SUBSCRIBE `) && line.includes("granted qos")
            ).length >= subscriptions,
          `mosquitto_sub ${clientId}'s subscriptions`,
        );
        return child;
      },
    };
    await setup.putPolicy(policy);
    await fn(setup);
  } finally {
    for (const child of children) {
      try {
        child.kill();
      } catch { /* already ended */ }
      await child.output().catch(() => {});
    }
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => {})));
    await t.close();
  }
}

/** The lines mosquitto_sub printed. */
export async function outputLines(child: Deno.ChildProcess): Promise<string[]> {
  const output = await child.output();
  return new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== "");
}

/** MQTT test helpers: real mqtt.js clients, an observer that collects messages, Debian's mosquitto clients. */

import mqtt, { type MqttClient } from "npm:mqtt@5.16.0";

/** Connects an mqtt.js client (MQTT 3.1.1, no automatic reconnect). */
export async function connect(
  url: string,
  username: string,
  password: string,
  clientId: string,
): Promise<MqttClient> {
  return await mqtt.connectAsync(url, {
    username,
    password,
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
}

/** Subscribes and returns the SUBACK return codes (128 = refused). */
export async function subscribeCodes(
  client: MqttClient,
  topic: string,
  qos: 0 | 1 | 2 = 0,
): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(topic, { qos });
    return granted.map((grant) => grant.qos);
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw error;
  }
}

/** Polls `condition` every 10 ms; rejects after `limitMs` (a hang guard, not an assertion). */
export async function until(condition: () => boolean, what: string, limitMs = 10_000) {
  const end = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A message as a client received it. */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

/** Collects every message a client receives, in order. */
export class Observer {
  readonly messages: Received[] = [];

  constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      this.messages.push({
        topic,
        payload: payload.toString(),
        retain: packet.retain,
        qos: packet.qos,
      });
    });
  }

  /** Waits for a message with `payload`; returns the messages received before it. */
  async before(payload: string): Promise<Received[]> {
    await until(() => this.messages.some((m) => m.payload === payload), `message "${payload}"`);
    const at = this.messages.findIndex((m) => m.payload === payload);
    const earlier = this.messages.slice(0, at);
    this.messages.splice(0, at + 1);
    return earlier;
  }
}

/** Runs a mosquitto client program and collects its output. */
export async function mosquitto(
  program: "mosquitto_pub" | "mosquitto_sub",
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(program, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Starts a mosquitto client program in the background. */
export function spawnMosquitto(program: "mosquitto_pub" | "mosquitto_sub", args: string[]) {
  return new Deno.Command(program, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
}

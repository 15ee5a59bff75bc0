/**
 * Raw MQTT 3.1.1 for broker benchmarks: pre-encoded frames over plain TCP and a reader that
 * counts the frames coming back, so that a figure is the broker's, not a client library's.
 */

import { variableLength as remainingLength } from "../../src/platform/connect_refusal.ts";

/** A length-prefixed UTF-8 string field. */
export function utf8Field(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

/** A frame: fixed header byte, remaining length, body. */
export function frame(first: number, body: number[]): Uint8Array {
  return new Uint8Array([first, ...remainingLength(body.length), ...body]);
}

/** CONNECT with username and password, clean session, keep-alive 60 s. */
export function connectFrame(clientId: string, username: string, password: string): Uint8Array {
  return frame(0x10, [
    ...utf8Field("MQTT"),
    4,
    0xc2,
    0,
    60,
    ...utf8Field(clientId),
    ...utf8Field(username),
    ...utf8Field(password),
  ]);
}

/** A QoS 0 PUBLISH. */
export function publishFrame(topic: string, payload: Uint8Array): Uint8Array {
  return frame(0x30, [...utf8Field(topic), ...payload]);
}

/** A SUBSCRIBE of `filters`, each at `qos`. */
export function subscribeFrame(packetId: number, filters: string[], qos: 0 | 1 | 2): Uint8Array {
  return frame(0x82, [
    packetId >> 8,
    packetId & 0xff,
    ...filters.flatMap((filter) => [...utf8Field(filter), qos]),
  ]);
}

/** The CONNACK packet type (as `FrameCounter` counts types). */
export const CONNACK = 2;
/** The PUBLISH packet type. */
export const PUBLISH = 3;
/** The SUBACK packet type. */
export const SUBACK = 9;

/** Counts complete MQTT frames of each type arriving on a connection. */
export class FrameCounter {
  #pending = new Uint8Array(0);
  #waiters: { type: number; target: number; resolve: () => void }[] = [];
  readonly counts = new Map<number, number>();

  constructor(readonly conn: Deno.Conn) {
    this.#read();
  }

  async #read() {
    const buffer = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        this.#feed(buffer.subarray(0, n));
      }
    } catch { /* closed */ }
  }

  #feed(chunk: Uint8Array) {
    let data = chunk;
    if (this.#pending.length > 0) {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending);
      data.set(chunk, this.#pending.length);
    }
    let at = 0;
    while (at < data.length) {
      let multiplier = 1;
      let length = 0;
      let cursor = at + 1;
      let complete = false;
      while (cursor < data.length) {
        const byte = data[cursor++];
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || cursor + length > data.length) break;
      const type = data[at] >> 4;
      this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
      at = cursor + length;
    }
    this.#pending = data.slice(at);
    for (const waiter of [...this.#waiters]) {
      if ((this.counts.get(waiter.type) ?? 0) >= waiter.target) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Resolves when `target` frames of `type` have arrived in total. */
  until(type: number, target: number): Promise<void> {
    if ((this.counts.get(type) ?? 0) >= target) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ type, target, resolve }));
  }
}

/** Writes all of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** A connected raw client (after its CONNACK). */
export async function rawClient(
  port: number,
  clientId: string,
  username: string,
  password: string,
): Promise<{ conn: Deno.Conn; counter: FrameCounter }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const counter = new FrameCounter(conn);
  await writeAll(conn, connectFrame(clientId, username, password));
  await counter.until(CONNACK, 1);
  return { conn, counter };
}

/**
 * Incoming packets as the broker sees them before aedes does. aedes closes the connection
 * of a client whose PUBLISH, SUBSCRIBE or UNSUBSCRIBE names a topic deeper than
 * MAX_TOPIC_LEVELS; here such a topic is swapped for a harmless placeholder, so that the
 * hooks see the packet and deny it (the PUBLISH is dropped and acknowledged, the
 * subscription gets SUBACK 0x80) and the connection stays. The hooks read the topic the
 * client sent with `sentTopic`.
 */

import type { Client } from "npm:aedes@1.2.0";
import { MAX_TOPIC_LEVELS, topicLevelCount } from "../acl/mod.ts";
import { clientInternals } from "./aedes_internals.ts";

/** An incoming packet, as far as the guard looks at it. */
export interface IncomingPacket {
  cmd?: string;
  topic?: string;
  subscriptions?: { topic: string; qos?: number }[];
  unsubscriptions?: string[];
}

function tooDeep(topic: unknown): topic is string {
  // A topic of more than MAX_TOPIC_LEVELS levels has at least MAX_TOPIC_LEVELS characters.
  return typeof topic === "string" && topic.length >= MAX_TOPIC_LEVELS &&
    topicLevelCount(topic) > MAX_TOPIC_LEVELS;
}

/** Watches the packets of a broker's connections. */
export class PacketGuard {
  readonly #sent = new WeakMap<object, string>();
  #placeholders = 0;

  /** The topic the client sent for a PUBLISH or a subscription (rewritten or not). */
  sentTopic(item: { topic: string }): string {
    return this.#sent.get(item) ?? item.topic;
  }

  /** Replaces topics over the level limit (see the module comment). */
  rewrite(packet: IncomingPacket): void {
    if (packet.cmd === "publish" && tooDeep(packet.topic)) {
      this.#sent.set(packet, packet.topic);
      packet.topic = this.#placeholder();
    } else if (packet.cmd === "subscribe" && Array.isArray(packet.subscriptions)) {
      for (const subscription of packet.subscriptions) {
        if (!tooDeep(subscription?.topic)) continue;
        this.#sent.set(subscription, subscription.topic);
        subscription.topic = this.#placeholder();
      }
    } else if (packet.cmd === "unsubscribe" && Array.isArray(packet.unsubscriptions)) {
      // Nothing can be subscribed with such a filter, so there is nothing to remove.
      packet.unsubscriptions = packet.unsubscriptions.filter((filter) => !tooDeep(filter));
    }
  }

  /**
   * Sees every packet of `client` before aedes: `rewrite`, then `inspect`. Packets that
   * arrive while the CONNECT is being authenticated are inspected again once it is done.
   */
  watch(client: Client, inspect: (packet: IncomingPacket) => void): void {
    const parser = clientInternals(client)._parser;
    parser?.prependListener("packet", (packet) => {
      this.rewrite(packet as IncomingPacket);
      inspect(packet as IncomingPacket);
    });
    client.prependOnceListener("connected", () => {
      for (const queued of parser?._queue ?? []) inspect(queued as IncomingPacket);
    });
  }

  #placeholder(): string {
    return `$cloudsignal/over-level-limit/${++this.#placeholders}`;
  }
}

/**
 * Retained messages, kept per organization: a subscriber sees the retained messages of its
 * own organization only, and two organizations retaining the same topic keep a message each.
 */

import { filterMatchesTopic, type QoS } from "../acl/mod.ts";

/** A retained message. */
export interface RetainedMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
}

/**
 * The organization prefix (`<org_short_id>/`) of a namespaced client id, or null for a
 * packet without a client (aedes's own messages). Short ids hold no `/`.
 */
export function organizationPrefix(clientId: string | undefined): string | null {
  if (typeof clientId !== "string") return null;
  const slash = clientId.indexOf("/");
  return slash > 0 ? clientId.slice(0, slash + 1) : null;
}

/** Retained messages by organization prefix, then by topic. */
export class RetainedMessages {
  readonly #byOrganization = new Map<string, Map<string, RetainedMessage>>();

  /** Stores a retained PUBLISH of the organization; an empty payload deletes the topic's. */
  store(prefix: string, message: RetainedMessage): void {
    let topics = this.#byOrganization.get(prefix);
    if (message.payload.length === 0) {
      topics?.delete(message.topic);
      if (topics?.size === 0) this.#byOrganization.delete(prefix);
      return;
    }
    if (!topics) this.#byOrganization.set(prefix, topics = new Map());
    topics.set(message.topic, {
      topic: message.topic,
      payload: message.payload,
      qos: message.qos,
    });
  }

  /** The organization's retained messages whose topic `filter` matches (`$` rule included). */
  *matching(prefix: string, filter: string): Generator<RetainedMessage> {
    const topics = this.#byOrganization.get(prefix);
    if (!topics) return;
    if (!/[+#]/.test(filter)) {
      const exact = topics.get(filter);
      if (exact) yield exact;
      return;
    }
    for (const message of topics.values()) {
      if (filterMatchesTopic(filter, message.topic)) yield message;
    }
  }

  /** How many retained messages the organization has. */
  count(prefix: string): number {
    return this.#byOrganization.get(prefix)?.size ?? 0;
  }
}

/**
 * aedes's in-memory persistence, scoped to organizations: retained messages go to a store
 * per organization (aedes keeps one store by topic and rebuilds retained packets without
 * their publisher, so it could neither tell organizations apart nor deliver them here), and
 * messages queued for persistent sessions go only to sessions of the publisher's
 * organization, once per session, at the QoS its subscriptions were granted.
 */

import { Readable } from "node:stream";
import type { PersistenceInternals, RoutedPacket, StoredSubscription } from "./aedes_internals.ts";
import { organizationPrefix, type RetainedMessages } from "./retained_messages.ts";
import type { QoS } from "../acl/mod.ts";

/** What the scoped persistence gives the broker. */
export interface ScopedPersistence {
  /** Whether a subscription object is one aedes is restoring for a returning session. */
  isRestored(subscription: object): boolean;
  /** The subscriptions stored for a persistent session. */
  storedSubscriptions(namespacedId: string): Promise<StoredSubscription[]>;
  /** Forgets stored subscriptions of a session (it receives and queues nothing more for them). */
  removeSubscriptions(namespacedId: string, filters: string[]): Promise<void>;
  /** Lowers the QoS of a stored subscription. */
  lowerSubscription(
    namespacedId: string,
    subscription: StoredSubscription,
    qos: QoS,
  ): Promise<void>;
}

/** Replaces the retained and queueing methods of `persistence` in place. */
export function scopePersistence(
  persistence: PersistenceInternals,
  retained: RetainedMessages,
): ScopedPersistence {
  const restored = new WeakSet<object>();
  const byClient = persistence.subscriptionsByClient.bind(persistence);
  const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
  const add = persistence.addSubscriptions.bind(persistence);
  const remove = persistence.removeSubscriptions.bind(persistence);

  persistence.storeRetained = (packet: RoutedPacket) => {
    const prefix = organizationPrefix(packet.clientId);
    if (prefix) retained.store(prefix, packet);
    return Promise.resolve();
  };
  // Retained messages are sent by the broker's delivery layer, which knows the subscriber.
  persistence.createRetainedStreamCombi = () => Readable.from([]);
  persistence.createRetainedStream = () => Readable.from([]);

  persistence.outgoingEnqueueCombi = async (subscriptions, packet) => {
    const prefix = organizationPrefix(packet.clientId);
    if (!prefix) return;
    const best = new Map<string, QoS>();
    for (const subscription of subscriptions) {
      const id = subscription.clientId;
      if (typeof id !== "string" || !id.startsWith(prefix)) continue;
      const qos = Math.min(subscription.qos, packet.qos) as QoS;
      if (qos > (best.get(id) ?? -1)) best.set(id, qos);
    }
    for (const qos of [1, 2] as const) {
      const group = [...best].filter(([, granted]) => granted === qos).map(([clientId]) => ({
        clientId,
        topic: packet.topic,
        qos,
      }));
      if (group.length > 0) await enqueue(group, { ...packet, qos });
    }
  };

  persistence.subscriptionsByClient = async (client) => {
    const subscriptions = await byClient(client);
    for (const subscription of subscriptions) restored.add(subscription);
    return subscriptions;
  };

  return {
    isRestored: (subscription) => restored.has(subscription),
    storedSubscriptions: (id) => byClient({ id }),
    removeSubscriptions: (id, filters) => remove({ id }, filters),
    lowerSubscription: (id, subscription, qos) => add({ id }, [{ ...subscription, qos }]),
  };
}

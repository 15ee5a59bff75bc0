/**
 * Delivery to subscribers. aedes hands each matching subscription's handler the message and
 * then decides by itself; this layer takes over the decisions it gets wrong here:
 *
 * - It knows which subscription a message came through: `subscribe` is wrapped so that each
 *   handler runs with its filter in context. A subscription that revocation removed delivers
 *   nothing, even while aedes's matcher still holds its handler (its removal is deferred).
 * - QoS: a message goes out at most at the QoS of the subscription that matched it, whatever
 *   the filter (aedes lowers it only for a subscription whose filter is the topic itself).
 *   With overlapping subscriptions the client gets one copy, at the highest QoS among them
 *   (MQTT-3.3.5-1), unless one of them names the exact topic: aedes then lowers the copy to
 *   that subscription's QoS.
 * - Order: aedes drops a message whose broker counter is lower than the last one it sent the
 *   client (its `dedupe`), but retained publishes and QoS 1 wills reach its matcher after
 *   later packets, so they were lost (aedes issues #994 and #955). Here a message is a
 *   duplicate only when it is the very packet just delivered.
 * - Organizations: only messages of the subscriber's organization are delivered.
 * - Retained messages come from the organization's own store at SUBSCRIBE.
 * - Messages queued for a persistent session are delivered at reconnect only through a
 *   subscription that is still allowed, at most at its QoS.
 */

import type { Aedes, Client, Subscription } from "npm:aedes@1.2.0";
import { filterMatchesTopic, type QoS } from "../acl/mod.ts";
import {
  brokerInternals,
  clientInternals,
  type Deliver,
  type LiveSubscription,
  type RoutedPacket,
} from "./aedes_internals.ts";
import { type Connection, connectionOf } from "./broker_connection.ts";
import type { RetainedMessages } from "./retained_messages.ts";

/** The delivery layer of one broker. */
export interface Delivery {
  /** Takes over a new client's delivery; call before it has any subscription. */
  attach(client: Client): void;
}

/** The highest QoS among `subscriptions` whose filter matches `topic`, or -1 when none does. */
export function bestMatchingQos(subscriptions: Record<string, LiveSubscription>, topic: string) {
  let best = -1;
  for (const filter in subscriptions) {
    const qos = subscriptions[filter].qos;
    if (qos > best && filterMatchesTopic(filter, topic)) best = qos;
  }
  return best;
}

/** Installs the delivery layer on `aedes`; `log` explains messages it withholds. */
export function installDelivery(
  aedes: Aedes,
  retained: RetainedMessages,
  log: (line: string) => void,
): Delivery {
  const broker = brokerInternals(aedes);
  const subscribe = broker.subscribe.bind(aedes);
  const unsubscribe = broker.unsubscribe.bind(aedes);
  const handlers = new WeakMap<Deliver, Deliver>();
  let currentFilter: string | undefined;
  let currentFunc: Deliver | undefined;
  let forwarding: RoutedPacket | undefined;

  broker.subscribe = (topic, func, done) => {
    const handler: Deliver = (packet, finished) => {
      const outerFilter = currentFilter;
      const outerFunc = currentFunc;
      currentFilter = topic;
      currentFunc = func;
      try {
        func(packet, finished);
      } finally {
        currentFilter = outerFilter;
        currentFunc = outerFunc;
      }
    };
    handlers.set(func, handler);
    subscribe(topic, handler, done);
  };
  broker.unsubscribe = (topic, func, done) => {
    const handler = handlers.get(func);
    if (!handler) return done?.();
    handlers.delete(func);
    unsubscribe(topic, handler, done);
  };

  const originals = new WeakMap<Client, { atQos0: Deliver; atQos: Deliver }>();

  /** Writes `packet` (a copy of its own) to the client through aedes, at `packet.qos`. */
  const send = (client: Client, packet: RoutedPacket, done: () => void) => {
    const own = originals.get(client)!;
    forwarding = packet;
    try {
      (packet.qos === 0 ? own.atQos0 : own.atQos)(packet, done);
    } finally {
      forwarding = undefined;
    }
  };

  const fromOrganization = (packet: RoutedPacket, connection: Connection) =>
    typeof packet.clientId === "string" && packet.clientId.startsWith(connection.prefix);

  const attach = (client: Client) => {
    const internals = clientInternals(client);
    originals.set(client, { atQos0: internals.deliver0, atQos: internals.deliverQoS });
    // aedes's own dedupe would drop messages that reach the matcher out of counter order.
    Object.defineProperty(internals.duplicates, aedes.id, {
      get: () => 0,
      set: () => {},
      configurable: true,
    });
    const deliver: Deliver = (packet, done) => {
      const connection = connectionOf(client);
      const filter = currentFilter;
      const func = currentFunc;
      if (!connection || !fromOrganization(packet, connection)) return setImmediate(done);
      const subscriptions = internals.subscriptions;
      let qos = packet.qos;
      if (filter !== undefined) {
        const subscription = subscriptions[filter];
        if (subscription === undefined || subscription.func !== func) return setImmediate(done);
        if (packet.brokerCounter === connection.lastDelivered) return setImmediate(done);
        if (qos > subscription.qos) {
          qos = Math.min(qos, bestMatchingQos(subscriptions, packet.topic)) as QoS;
        }
      } else {
        const best = bestMatchingQos(subscriptions, packet.topic);
        if (best < 0) return setImmediate(done);
        qos = Math.min(qos, best) as QoS;
        packet = { ...packet };
      }
      connection.lastDelivered = packet.brokerCounter ?? -1;
      packet.qos = qos;
      send(client, packet, done);
    };
    internals.deliver0 = deliver;
    internals.deliverQoS = deliver;
  };

  aedes.authorizeForward = (client, packet) => {
    const routed = packet as unknown as RoutedPacket;
    if (routed === forwarding) return packet;
    // A message queued for a persistent session, sent as the session resumes.
    const connection = connectionOf(client);
    if (!connection || !fromOrganization(routed, connection)) return null;
    const best = bestMatchingQos(clientInternals(client).subscriptions, routed.topic);
    if (best <= 0) {
      log(
        `[mqtt] queued message on "${routed.topic}" for ${connection.login} (client ` +
          `"${connection.clientId}"): dropped, no subscription of the session allows it any more`,
      );
      return null;
    }
    if (routed.qos > best) routed.qos = best as QoS;
    return packet;
  };

  aedes.on("subscribe", (subscriptions: Subscription[], client: Client) => {
    const connection = connectionOf(client);
    if (!connection || !originals.has(client)) return;
    for (const subscription of subscriptions) {
      if (subscription.qos > 2) continue;
      for (const message of retained.matching(connection.prefix, subscription.topic)) {
        send(client, {
          cmd: "publish",
          topic: message.topic,
          payload: message.payload,
          qos: Math.min(message.qos, subscription.qos) as QoS,
          retain: true,
          brokerId: null,
        }, () => {});
      }
    }
  });

  return { attach };
}

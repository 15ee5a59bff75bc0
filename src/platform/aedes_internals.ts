/**
 * The parts of aedes 1.2.0 (pinned) that the broker reaches beyond aedes's public API, typed
 * in one place. `tests/platform/aedes_upstream_test.ts` fails when an upgrade changes them.
 */

import type { Aedes, Client } from "npm:aedes@1.2.0";
import type { Readable } from "node:stream";
import type { QoS } from "../acl/mod.ts";

/** A PUBLISH as aedes routes it (an aedes-packet). */
export interface RoutedPacket {
  cmd: string;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup?: boolean;
  /** The namespaced id of the publishing client; absent on aedes's own `$SYS` messages. */
  clientId?: string;
  brokerId?: string | null;
  /** Increases with every packet the broker creates. */
  brokerCounter?: number;
  messageId?: number;
}

/** The handler aedes registers per subscription, and a client's delivery functions. */
export type Deliver = (packet: RoutedPacket, done: () => void) => void;

/** One subscription of a connected client: `client.subscriptions[filter]`. */
export interface LiveSubscription {
  qos: QoS;
  /** The handler registered in the broker's matcher for this subscription. */
  func: Deliver;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
}

/** A subscription as the persistence stores it (clean-session-off clients). */
export interface StoredSubscription {
  topic: string;
  qos: QoS;
  clientId?: string;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
}

/** The MQTT parser of a connection. */
export interface ParserInternals {
  prependListener(event: "packet", listener: (packet: object) => void): void;
  /** Packets received before the CONNECT finished, handled at `connected`. */
  _queue?: object[] | null;
}

/** The client fields the broker reads or replaces. */
export interface ClientInternals {
  subscriptions: Record<string, LiveSubscription>;
  /** Writes a packet at QoS 0; replaced per client (see `broker_delivery.ts`). */
  deliver0: Deliver;
  /** Writes a packet at its QoS (1 or 2); replaced per client. */
  deliverQoS: Deliver;
  /** Highest broker counter delivered per broker id (aedes's dedupe). */
  duplicates: Record<string, number>;
  clean: boolean;
  _parser?: ParserInternals;
}

/** The persistence methods the broker wraps or calls (aedes-persistence's memory store). */
export interface PersistenceInternals {
  storeRetained(packet: RoutedPacket): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): Readable;
  createRetainedStream(pattern: string): Readable;
  outgoingEnqueueCombi(subscriptions: StoredSubscription[], packet: RoutedPacket): Promise<void>;
  subscriptionsByClient(client: { id: string }): Promise<StoredSubscription[]>;
  addSubscriptions(client: { id: string }, subscriptions: StoredSubscription[]): Promise<void>;
  removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>;
}

/** The broker fields the broker reads or replaces. */
export interface BrokerInternals {
  persistence: PersistenceInternals;
  /** Connected clients by (namespaced) id. */
  clients: Record<string, Client>;
  subscribe(topic: string, func: Deliver, done?: () => void): void;
  unsubscribe(topic: string, func: Deliver, done?: () => void): void;
}

/** The internals of a client. */
export function clientInternals(client: Client): ClientInternals {
  return client as unknown as ClientInternals;
}

/** The internals of a broker. */
export function brokerInternals(aedes: Aedes): BrokerInternals {
  return aedes as unknown as BrokerInternals;
}

/**
 * Who a broker connection is, and the decisions made for it: the shared evaluator with the
 * organization's current policy and the user's current claims, read per packet from the
 * store's caches, with a per-connection cache that starts over when either changes.
 */

import type { Client } from "npm:aedes@1.2.0";
import { type AclRequest, type Decision, evaluate, type QoS } from "../acl/mod.ts";
import type { Organization, PlatformStore, UserRecord } from "./store.ts";

/** An authenticated client (or a stored persistent session of one). */
export interface Connection {
  user: UserRecord;
  organization: Organization;
  /** The client id the client sent (without the organization namespace). */
  clientId: string;
  /** The namespaced client id aedes knows the client by, `<org_short_id>/<client id>`. */
  namespacedId: string;
  /** The MQTT username as sent, `<username>@<short_id>`. */
  login: string;
  /** The OAuth session of the access token used, or null for an MQTT password. */
  sessionId: string | null;
  /** Prefix of the namespaced client ids of the organization, `<org_short_id>/`. */
  prefix: string;
  /** Whether the session ends with the connection (clean session). */
  clean: boolean;
  /** Broker counter of the last packet delivered (one copy per packet). */
  lastDelivered: number;
  cache: DecisionCache;
}

/**
 * A connection's recent decisions, valid for one compiled policy and one claims object (the
 * store replaces both on any change, which empties the cache). Slots by action, QoS and
 * retain, each a map by topic.
 */
interface DecisionCache {
  policy: unknown;
  claims: unknown;
  size: number;
  slots: Map<string, Decision>[];
}

/** Decisions a connection keeps before its cache starts over. */
export const MAX_CACHED_DECISIONS = 1024;

const CONNECTION = Symbol("cloudsignal.connection");

type ClientWithConnection = Client & { [CONNECTION]?: Connection };

/** The connection of an authenticated client, if any. */
export function connectionOf(client: Client | null | undefined): Connection | undefined {
  return client ? (client as ClientWithConnection)[CONNECTION] : undefined;
}

/** Records who `client` is once it is authenticated. */
export function attachConnection(client: Client, connection: Connection): void {
  (client as ClientWithConnection)[CONNECTION] = connection;
}

/** A connection record with an empty decision cache. */
export function newConnection(
  fields: Omit<Connection, "cache" | "lastDelivered" | "prefix" | "namespacedId">,
): Connection {
  const prefix = `${fields.organization.short_id}/`;
  return {
    ...fields,
    prefix,
    namespacedId: `${prefix}${fields.clientId}`,
    lastDelivered: -1,
    cache: {
      policy: null,
      claims: null,
      size: 0,
      slots: Array.from({ length: 12 }, () => new Map<string, Decision>()),
    },
  };
}

/** Decides requests for connections. */
export interface Decider {
  /** The decision for a PUBLISH or SUBSCRIBE of `connection`. */
  decide(
    connection: Connection,
    action: "pub" | "sub",
    topic: string,
    qos: QoS,
    retain: boolean,
  ): Decision;
  /** The evaluator's request for the same (for logs that explain a decision). */
  requestOf(
    connection: Connection,
    action: "pub" | "sub",
    topic: string,
    qos: QoS,
    retain: boolean,
  ): AclRequest;
}

const ALLOW: Decision = {
  decision: "allow",
  reason: "rule",
  matched: null,
  granted_qos: 2,
  default: "allow",
};

/** A decider over `store`; `allowAll` allows everything (benchmarks), `cache` keeps decisions. */
export function createDecider(store: PlatformStore, allowAll: boolean, useCache: boolean): Decider {
  const requestOf = (
    connection: Connection,
    action: "pub" | "sub",
    topic: string,
    qos: QoS,
    retain: boolean,
  ): AclRequest => ({
    client: {
      username: connection.user.username,
      client_id: connection.clientId,
      org_id: connection.organization.id,
      org_short_id: connection.organization.short_id,
      claims: store.claims(connection.user.id) as Record<string, string>,
    },
    action,
    topic,
    qos,
    retain,
  });

  const decide = (
    connection: Connection,
    action: "pub" | "sub",
    topic: string,
    qos: QoS,
    retain: boolean,
  ): Decision => {
    if (allowAll) return ALLOW;
    const state = store.policy(connection.organization.id);
    const claims = store.claims(connection.user.id);
    if (!useCache) {
      return evaluate(state.compiled, requestOf(connection, action, topic, qos, retain));
    }
    const cache = connection.cache;
    if (cache.policy !== state || cache.claims !== claims) {
      cache.policy = state;
      cache.claims = claims;
      cache.size = 0;
      for (const slot of cache.slots) slot.clear();
    }
    const slot = cache.slots[(action === "pub" ? 0 : 6) + qos * 2 + (retain ? 1 : 0)];
    let decision = slot.get(topic);
    if (decision === undefined) {
      decision = evaluate(state.compiled, requestOf(connection, action, topic, qos, retain));
      if (cache.size >= MAX_CACHED_DECISIONS) {
        cache.size = 0;
        for (const other of cache.slots) other.clear();
      }
      slot.set(topic, decision);
      cache.size++;
    }
    return decision;
  };

  return { decide, requestOf };
}

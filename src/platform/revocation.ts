/**
 * Revocation of existing subscriptions. After a policy update, a claim change or a change
 * another process made to the data directory, every subscription of the affected clients is
 * decided again, connected or not: one the policy no longer allows is removed (it delivers
 * nothing more, and a persistent session stops queueing for it), one allowed at a lower QoS
 * is lowered. MQTT 3.1.1 has no way to tell the client; the broker logs each removal.
 */

import type { Aedes, Client } from "npm:aedes@1.2.0";
import { describeDecision, type QoS } from "../acl/mod.ts";
import { brokerInternals, clientInternals } from "./aedes_internals.ts";
import { type Connection, connectionOf, type Decider } from "./broker_connection.ts";
import type { ScopedPersistence } from "./broker_persistence.ts";
import type { StoreChange } from "./store.ts";

/** What one re-check did. */
export interface RecheckResult {
  /** Connected clients and stored sessions looked at. */
  sessions: number;
  subscriptions: number;
  revoked: number;
  lowered: number;
  /** Time spent deciding and removing, in milliseconds. */
  ms: number;
}

/** The revocation of one broker. */
export interface Revocation {
  /** Keeps a persistent session's identity, so its stored subscriptions can be re-decided offline. */
  remember(connection: Connection): void;
  /** Forgets a session that a clean connection replaced. */
  forget(namespacedId: string): void;
  /** Re-decides the subscriptions a store change may affect. */
  recheck(change: StoreChange): Promise<RecheckResult>;
}

/** Settings of the revocation. */
export interface RevocationOptions {
  aedes: Aedes;
  decider: Decider;
  persistence: ScopedPersistence;
  /** Authenticated clients, connected or still connecting. */
  live: ReadonlySet<Client>;
  log: (line: string) => void;
}

function scopeOf(change: StoreChange): ((connection: Connection) => boolean) | null {
  switch (change.kind) {
    case "policy":
      return (connection) => connection.organization.id === change.org_id;
    case "claims":
      return (connection) => connection.user.id === change.user_id;
    case "external":
      return () => true;
    default:
      return null;
  }
}

function causeOf(change: StoreChange, connection: Connection): string {
  switch (change.kind) {
    case "policy":
      return `policy revision ${change.revision}`;
    case "claims":
      return `a claim change of ${connection.user.username}`;
    default:
      return "a change to the data directory";
  }
}

/** Creates the revocation of a broker. */
export function createRevocation(options: RevocationOptions): Revocation {
  const { decider, persistence, live, log } = options;
  const broker = brokerInternals(options.aedes);
  const sessions = new Map<string, Connection>();

  const removed = (
    connection: Connection,
    filter: string,
    cause: string,
    explanation: string,
    offline: boolean,
  ) =>
    log(
      `[mqtt] subscription "${filter}" of ${connection.login} (client "${connection.clientId}"` +
        `${offline ? ", offline session" : ""}) revoked after ${cause}: ${explanation}; it ` +
        "delivers nothing more (MQTT 3.1.1 cannot tell the client)",
    );

  const lowered = (connection: Connection, filter: string, from: QoS, to: QoS, cause: string) =>
    log(
      `[mqtt] subscription "${filter}" of ${connection.login} (client "${connection.clientId}") ` +
        `lowered from qos ${from} to qos ${to} after ${cause}`,
    );

  const recheckLive = (
    client: Client,
    connection: Connection,
    cause: string,
    result: RecheckResult,
  ) => {
    const subscriptions = clientInternals(client).subscriptions;
    for (const filter in subscriptions) {
      const subscription = subscriptions[filter];
      result.subscriptions++;
      const decision = decider.decide(connection, "sub", filter, subscription.qos, false);
      if (decision.decision !== "allow") {
        delete subscriptions[filter];
        broker.unsubscribe(filter, subscription.func);
        if (!connection.clean) {
          void persistence.removeSubscriptions(connection.namespacedId, [filter]);
        }
        result.revoked++;
        const request = decider.requestOf(connection, "sub", filter, subscription.qos, false);
        removed(connection, filter, cause, describeDecision(decision, request), false);
        continue;
      }
      const granted = decision.granted_qos ?? 0;
      if (granted < subscription.qos) {
        const from = subscription.qos;
        subscription.qos = granted;
        if (!connection.clean) {
          void persistence.lowerSubscription(
            connection.namespacedId,
            {
              topic: filter,
              qos: from,
              rh: subscription.rh,
              rap: subscription.rap,
              nl: subscription.nl,
            },
            granted,
          );
        }
        result.lowered++;
        lowered(connection, filter, from, granted, cause);
      }
    }
  };

  const recheckStored = async (connection: Connection, cause: string, result: RecheckResult) => {
    const stored = await persistence.storedSubscriptions(connection.namespacedId);
    const revoke: string[] = [];
    for (const subscription of stored) {
      result.subscriptions++;
      const decision = decider.decide(
        connection,
        "sub",
        subscription.topic,
        subscription.qos,
        false,
      );
      if (decision.decision !== "allow") {
        revoke.push(subscription.topic);
        const request = decider.requestOf(
          connection,
          "sub",
          subscription.topic,
          subscription.qos,
          false,
        );
        removed(connection, subscription.topic, cause, describeDecision(decision, request), true);
      } else if ((decision.granted_qos ?? 0) < subscription.qos) {
        const granted = decision.granted_qos ?? 0;
        await persistence.lowerSubscription(connection.namespacedId, subscription, granted);
        result.lowered++;
        lowered(connection, subscription.topic, subscription.qos, granted, cause);
      }
    }
    if (revoke.length > 0) await persistence.removeSubscriptions(connection.namespacedId, revoke);
    result.revoked += revoke.length;
  };

  const recheck = async (change: StoreChange): Promise<RecheckResult> => {
    const result: RecheckResult = { sessions: 0, subscriptions: 0, revoked: 0, lowered: 0, ms: 0 };
    const inScope = scopeOf(change);
    if (!inScope) return result;
    const started = performance.now();
    const connected = new Set<string>();
    for (const client of live) {
      const connection = connectionOf(client);
      if (!connection) continue;
      connected.add(connection.namespacedId);
      if (!inScope(connection)) continue;
      result.sessions++;
      recheckLive(client, connection, causeOf(change, connection), result);
    }
    const offline = [...sessions.values()].filter((connection) =>
      !connected.has(connection.namespacedId) && inScope(connection)
    );
    for (const connection of offline) {
      result.sessions++;
      await recheckStored(connection, causeOf(change, connection), result);
    }
    result.ms = performance.now() - started;
    if (result.subscriptions > 0) {
      log(
        `[mqtt] re-checked ${result.subscriptions} subscription(s) of ${result.sessions} ` +
          `session(s) in ${result.ms.toFixed(1)} ms: ${result.revoked} revoked, ` +
          `${result.lowered} lowered`,
      );
    }
    return result;
  };

  return {
    remember: (connection) => sessions.set(connection.namespacedId, connection),
    forget: (id) => sessions.delete(id),
    recheck,
  };
}

/**
 * The MQTT broker: aedes on `node:net`, loopback only. CONNECT is authenticated with
 * username `<username>@<org_short_id>` and, as password, an access token of that user or
 * the user's MQTT password. Every PUBLISH and SUBSCRIBE is decided by the shared evaluator
 * with the organization's current policy and the user's current claims (read per packet
 * from the store's caches, so a change applies to the next packet). A denied SUBSCRIBE
 * gets SUBACK 0x80; a denied PUBLISH is dropped (the connection stays) and logged.
 *
 * Organizations are kept apart: client ids are namespaced per organization (so a client of
 * one cannot take over another's id) and a message is delivered only to clients of the
 * publisher's organization.
 */

import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { Aedes, type Client, type PublishPacket, type Subscription } from "npm:aedes@1.2.0";
import {
  type AclRequest,
  type Decision,
  describeDecision,
  evaluate,
  type QoS,
} from "../acl/mod.ts";
import type { Organization, PlatformStore, UserRecord } from "./store.ts";
import { hashPassword, randomToken, verifyPassword } from "./crypto.ts";
import { FailureThrottle } from "./throttle.ts";

/** How the broker decides: the policy (`acl`) or everything allowed (`allow-all`, benchmarks). */
export type BrokerHooks = "acl" | "allow-all";

/** Settings of the broker. */
export interface BrokerOptions {
  store: PlatformStore;
  /** 0 for any free port. */
  port: number;
  log: (line: string) => void;
  /** Also log each allowed PUBLISH (default true; denials are always logged). */
  logAllowedPublishes?: boolean;
  hooks?: BrokerHooks;
  /** Keep each connection's recent decisions until the policy or its claims change (default true). */
  decisionCache?: boolean;
}

/** A running broker. */
export interface RunningBroker {
  port: number;
  /** Connected, authenticated clients. */
  clients(): number;
  close(): Promise<void>;
}

/** Who a connection is. */
interface Connection {
  user: UserRecord;
  organization: Organization;
  /** The client id the client sent (without the organization namespace). */
  clientId: string;
  /** The MQTT username as sent, `<username>@<short_id>`. */
  login: string;
  /** The OAuth session of the access token used, or null for an MQTT password. */
  sessionId: string | null;
  /** Prefix of namespaced client ids of the organization. */
  prefix: string;
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

/**
 * aedes's internal `$SYS` control topics, which it subscribes to as `$SYS/+/…` (the `+`
 * matching any broker id, the empty one too): never accepted from clients, whatever the policy.
 */
const RESERVED = /^\$SYS\/[^/]*\/(new\/clients|heartbeat|birth|disconnect\/clients)$/;

const ALLOW: Decision = {
  decision: "allow",
  reason: "rule",
  matched: null,
  granted_qos: 2,
  default: "allow",
};

/** Splits `user@org` at the last `@`. */
export function parseMqttUsername(login: string): { username: string; shortId: string } | null {
  const at = login.lastIndexOf("@");
  if (at <= 0 || at === login.length - 1) return null;
  return { username: login.slice(0, at), shortId: login.slice(at + 1) };
}

function authError(message: string, returnCode: number) {
  return Object.assign(new Error(message), { returnCode });
}

/** Starts the broker on 127.0.0.1. */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { store, log } = options;
  const logAllowed = options.logAllowedPublishes ?? true;
  const allowAll = options.hooks === "allow-all";
  const useCache = options.decisionCache ?? true;
  const denied = new WeakSet<object>();
  const bySession = new Map<string, Set<Client>>();

  const throttle = new FailureThrottle();
  const dummyHash = await hashPassword(randomToken(16));
  const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000, connectTimeout: 10_000 });

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

  /** Decides with the organization's current policy and the user's current claims. */
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

  const requestedQos = new WeakMap<object, number>();
  /**
   * aedes answers SUBACK with the QoS the client asked for, whatever authorizeSubscribe
   * grants; so SUBSCRIBE packets get their QoS lowered to the granted one before aedes
   * handles them (the decision is taken again, identically, in authorizeSubscribe).
   */
  const lowerSubscribeQos = (
    client: Client,
    packet: { cmd?: string; subscriptions?: Subscription[] },
  ) => {
    const connection = (client as ClientWithConnection)[CONNECTION];
    if (!connection || packet.cmd !== "subscribe" || !Array.isArray(packet.subscriptions)) return;
    for (const subscription of packet.subscriptions) {
      if (typeof subscription?.topic !== "string") continue;
      const requested = (subscription.qos ?? 0) as QoS;
      const decision = decide(connection, "sub", subscription.topic, requested, false);
      if (decision.decision !== "allow") continue;
      requestedQos.set(subscription, requested);
      subscription.qos = Math.min(requested, decision.granted_qos ?? 0) as QoS;
    }
  };

  aedes.preConnect = (client, packet, callback) => {
    type Internals = {
      _parser?: {
        prependListener(event: string, f: (p: object) => void): void;
        _queue?: object[] | null;
      };
    };
    const parser = (client as unknown as Internals)._parser;
    parser?.prependListener("packet", (incoming) => lowerSubscribeQos(client, incoming));
    client.prependOnceListener("connected", () => {
      for (const queued of parser?._queue ?? []) lowerSubscribeQos(client, queued);
    });
    const parsed = typeof packet.username === "string" ? parseMqttUsername(packet.username) : null;
    if (parsed) {
      const original = packet.clientId ?? "";
      const id = original === "" ? `auto-${crypto.randomUUID()}` : original;
      (packet as { clientId: string }).clientId = `${parsed.shortId}/${id}`;
    }
    callback(null, true);
  };

  aedes.authenticate = (client, login, password, done) => {
    const refuse = (why: string, code = 4) => {
      log(`[mqtt] CONNECT ${login ?? "(no username)"}: refused, ${why}`);
      done(authError(why, code), false);
    };
    if (typeof login !== "string" || login === "") {
      return refuse("no username (use <username>@<org_short_id>)");
    }
    const parsed = parseMqttUsername(login);
    if (!parsed) return refuse(`username "${login}" is not <username>@<org_short_id>`);
    const wait = throttle.attempt(login);
    if (wait > 0) return refuse(`too many failed attempts; try again in ${wait} s`);
    const secret = password ? Buffer.from(password).toString("utf8") : "";
    const organization = store.organizationByShortId(parsed.shortId);
    const user = organization ? store.userByUsername(organization.id, parsed.username) : null;
    if (!organization || !user || secret === "") {
      // As slow as a real check, so that the answer does not tell which usernames exist.
      verifyPassword(secret, dummyHash).finally(() =>
        refuse(secret === "" ? "no password (send an access token)" : "bad username or password")
      );
      return;
    }
    const finish = (sessionId: string | null, how: string) => {
      const prefix = `${organization.short_id}/`;
      const clientId = client.id.startsWith(prefix) ? client.id.slice(prefix.length) : client.id;
      (client as ClientWithConnection)[CONNECTION] = {
        user,
        organization,
        clientId,
        login,
        sessionId,
        prefix,
        cache: {
          policy: null,
          claims: null,
          size: 0,
          slots: Array.from({ length: 12 }, () => new Map<string, Decision>()),
        },
      };
      if (sessionId) {
        let clients = bySession.get(sessionId);
        if (!clients) bySession.set(sessionId, clients = new Set());
        clients.add(client);
      }
      throttle.succeed(login);
      log(`[mqtt] CONNECT ${login} (client "${clientId}"): accepted, ${how}`);
      done(null, true);
    };
    const check = async () => {
      if (secret.startsWith("csat_")) {
        const owner = await store.accessTokenOwner(secret);
        if (!owner) return refuse("bad username or password (access token invalid or expired)");
        if (owner.user.id !== user.id) {
          return refuse("bad username or password (the access token is another user's)");
        }
        return finish(owner.session_id, "access token");
      }
      if (await store.verifyMqttPassword(user.id, secret)) return finish(null, "MQTT password");
      refuse("bad username or password");
    };
    check().catch((error) => refuse(`server error: ${error?.message ?? error}`, 3));
  };

  aedes.authorizePublish = (client, packet, callback) => {
    const connection = client ? (client as ClientWithConnection)[CONNECTION] : undefined;
    if (!connection) return callback(new Error("not authenticated"));
    const topic = packet.topic;
    if (topic.charCodeAt(0) === 36 && RESERVED.test(topic)) {
      denied.add(packet);
      log(`[mqtt] PUBLISH ${connection.login} "${topic}": dropped, reserved broker topic`);
      return callback(null);
    }
    (packet as { clientId?: string }).clientId = client!.id;
    const qos = packet.qos as QoS;
    const retain = packet.retain === true;
    const decision = decide(connection, "pub", topic, qos, retain);
    if (decision.decision === "allow") {
      if (logAllowed && !allowAll) {
        const request = requestOf(connection, "pub", topic, qos, retain);
        log(
          `[mqtt] PUBLISH ${connection.login} "${topic}" qos ${qos}: ${
            describeDecision(decision, request)
          }`,
        );
      }
      return callback(null);
    }
    denied.add(packet);
    const request = requestOf(connection, "pub", topic, qos, retain);
    log(
      `[mqtt] PUBLISH ${connection.login} "${topic}" qos ${qos}${retain ? " retained" : ""}: ` +
        `${describeDecision(decision, request)}; dropped`,
    );
    callback(null);
  };

  const publish = aedes.publish.bind(aedes);
  (aedes as { publish: unknown }).publish = (
    packet: PublishPacket,
    client: unknown,
    done?: (error?: Error) => void,
  ) => {
    if (denied.has(packet)) {
      const callback = typeof client === "function" ? client : done;
      return callback?.();
    }
    return (publish as (...args: unknown[]) => void)(packet, client, done);
  };

  aedes.authorizeSubscribe = (client, subscription: Subscription, callback) => {
    const connection = (client as ClientWithConnection)[CONNECTION];
    if (!connection) return callback(new Error("not authenticated"));
    const requested = (requestedQos.get(subscription) ?? subscription.qos ?? 0) as QoS;
    const decision = decide(connection, "sub", subscription.topic, requested, false);
    const request = allowAll
      ? null
      : requestOf(connection, "sub", subscription.topic, requested, false);
    if (decision.decision !== "allow") {
      log(
        `[mqtt] SUBSCRIBE ${connection.login} "${subscription.topic}" qos ${requested}: ` +
          `${describeDecision(decision, request!)}; SUBACK 0x80`,
      );
      return callback(null, null);
    }
    const granted = Math.min(requested, decision.granted_qos ?? 0) as QoS;
    if (request) {
      log(
        `[mqtt] SUBSCRIBE ${connection.login} "${subscription.topic}" qos ${requested}: ` +
          `${describeDecision(decision, request)}; granted qos ${granted}`,
      );
    }
    subscription.qos = granted;
    callback(null, subscription);
  };

  aedes.authorizeForward = (client, packet) => {
    const connection = (client as ClientWithConnection)[CONNECTION];
    const from = (packet as { clientId?: unknown }).clientId;
    if (!connection || typeof from !== "string" || !from.startsWith(connection.prefix)) return null;
    return packet;
  };

  aedes.on("clientDisconnect", (client) => {
    const connection = (client as ClientWithConnection)[CONNECTION];
    if (!connection) return;
    log(`[mqtt] DISCONNECT ${connection.login} (client "${connection.clientId}")`);
    if (connection.sessionId) bySession.get(connection.sessionId)?.delete(client);
  });

  const stopListening = store.onChange((change) => {
    if (change.kind !== "session_revoked") return;
    const clients = bySession.get(change.session_id);
    if (!clients) return;
    bySession.delete(change.session_id);
    for (const client of clients) {
      const connection = (client as ClientWithConnection)[CONNECTION];
      log(
        `[mqtt] closing ${connection?.login} (client "${connection?.clientId}"): session revoked`,
      );
      client.close();
    }
  });

  const server: Server = createServer(aedes.handle);
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    clients: () => aedes.connectedClients,
    close: async () => {
      stopListening();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

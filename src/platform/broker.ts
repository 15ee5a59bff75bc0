/**
 * The MQTT broker: aedes (MQTT 3.1.1) on `node:net`, loopback only. CONNECT is authenticated
 * with username `<username>@<org_short_id>` and, as password, an access token of that user
 * or the user's MQTT password. Every PUBLISH and SUBSCRIBE is decided by the shared evaluator
 * with the organization's current policy and the user's current claims, and so is every
 * existing subscription after a change (`revocation.ts`). A denied SUBSCRIBE gets SUBACK
 * 0x80; a denied PUBLISH is dropped (the connection stays) and logged.
 *
 * Organizations are kept apart: client ids are namespaced per organization (so a client of
 * one cannot take over another's id), and messages, retained ones included, reach only
 * clients of the publisher's organization (`broker_delivery.ts`, `broker_persistence.ts`).
 */

import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { Aedes, type Client, type PublishPacket, type Subscription } from "npm:aedes@1.2.0";
import { BROKER_CONTROL_TOPIC, describeDecision, type QoS } from "../acl/mod.ts";
import type { PlatformStore } from "./store.ts";
import { hashPassword, randomToken, verifyPassword } from "./crypto.ts";
import { FailureThrottle } from "./throttle.ts";
import { brokerInternals } from "./aedes_internals.ts";
import {
  attachConnection,
  type Connection,
  connectionOf,
  createDecider,
  newConnection,
} from "./broker_connection.ts";
import { installDelivery } from "./broker_delivery.ts";
import { scopePersistence } from "./broker_persistence.ts";
import { RetainedMessages } from "./retained_messages.ts";
import { createRevocation } from "./revocation.ts";
import { type IncomingPacket, PacketGuard } from "./packet_guard.ts";
import { refusalOf, refuse } from "./connect_refusal.ts";

export { MAX_CACHED_DECISIONS } from "./broker_connection.ts";

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
  const decider = createDecider(store, allowAll, options.decisionCache ?? true);
  const { decide, requestOf } = decider;
  const denied = new WeakSet<object>();
  const bySession = new Map<string, Set<Client>>();
  const live = new Set<Client>();
  const guard = new PacketGuard();

  const throttle = new FailureThrottle();
  const dummyHash = await hashPassword(randomToken(16));
  const aedes = await Aedes.createBroker({
    heartbeatInterval: 60_000,
    connectTimeout: 10_000,
    // MQTT 3.1's limit applies to the id the client sent (`connect_refusal.ts`), not to the
    // namespaced id aedes sees.
    maxClientsIdLength: Number.MAX_SAFE_INTEGER,
  });
  const retained = new RetainedMessages();
  const persistence = scopePersistence(brokerInternals(aedes).persistence, retained);
  const delivery = installDelivery(aedes, retained, log);
  const revocation = createRevocation({ aedes, decider, persistence, live, log });

  const requestedQos = new WeakMap<object, QoS>();
  /**
   * aedes answers SUBACK with the QoS the client asked for, whatever authorizeSubscribe
   * grants; so SUBSCRIBE packets get their QoS lowered to the granted one before aedes
   * handles them (the decision is taken again, identically, in authorizeSubscribe).
   */
  const lowerSubscribeQos = (client: Client, packet: IncomingPacket) => {
    const connection = connectionOf(client);
    if (!connection || packet.cmd !== "subscribe" || !Array.isArray(packet.subscriptions)) return;
    for (const subscription of packet.subscriptions) {
      if (typeof subscription?.topic !== "string" || requestedQos.has(subscription)) continue;
      const requested = (subscription.qos ?? 0) as QoS;
      const decision = decide(connection, "sub", subscription.topic, requested, false);
      if (decision.decision !== "allow") continue;
      requestedQos.set(subscription, requested);
      subscription.qos = Math.min(requested, decision.granted_qos ?? 0) as QoS;
    }
  };

  aedes.preConnect = (client, packet, callback) => {
    const refusal = refusalOf(packet);
    if (refusal) {
      log(`[mqtt] CONNECT ${packet.username ?? "(no username)"}: refused, ${refusal.why}`);
      return refuse(client, refusal, () => callback(new Error(refusal.why), false));
    }
    delivery.attach(client);
    guard.watch(client, (incoming) => lowerSubscribeQos(client, incoming));
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
    const secret = password ? Buffer.from(password).toString("utf8") : "";
    const fail = (why: string) => {
      throttle.failed(login);
      refuse(why);
    };
    const finish = (connection: Connection, how: string) => {
      throttle.succeeded(login);
      // The client may have gone while its attempt waited for a turn; aedes then ignores it.
      if (client.closed) return done(null, true);
      attachConnection(client, connection);
      live.add(client);
      client.conn.once("close", () => live.delete(client));
      if (connection.clean) revocation.forget(connection.namespacedId);
      else revocation.remember(connection);
      if (connection.sessionId) {
        let clients = bySession.get(connection.sessionId);
        if (!clients) bySession.set(connection.sessionId, clients = new Set());
        clients.add(client);
      }
      log(`[mqtt] CONNECT ${login} (client "${connection.clientId}"): accepted, ${how}`);
      done(null, true);
    };
    const check = async () => {
      const admission = await throttle.admit(login);
      if (!admission.admitted) {
        return refuse(`too many failed attempts; try again in ${admission.seconds} s`);
      }
      const organization = store.organizationByShortId(parsed.shortId);
      const user = organization ? store.userByUsername(organization.id, parsed.username) : null;
      if (!organization || !user || secret === "") {
        // As slow as a real check, so that the answer does not tell which usernames exist.
        await verifyPassword(secret, dummyHash);
        return fail(
          secret === "" ? "no password (send an access token)" : "bad username or password",
        );
      }
      const prefix = `${organization.short_id}/`;
      const connection = (sessionId: string | null) =>
        newConnection({
          user,
          organization,
          clientId: client.id.startsWith(prefix) ? client.id.slice(prefix.length) : client.id,
          login,
          sessionId,
          clean: client.clean,
        });
      if (secret.startsWith("csat_")) {
        const owner = await store.accessTokenOwner(secret);
        if (!owner) return fail("bad username or password (access token invalid or expired)");
        if (owner.user.id !== user.id) {
          return fail("bad username or password (the access token is another user's)");
        }
        return finish(connection(owner.session_id), "access token");
      }
      if (await store.verifyMqttPassword(user.id, secret)) {
        return finish(connection(null), "MQTT password");
      }
      fail("bad username or password");
    };
    check().catch((error) => {
      throttle.abandoned(login);
      refuse(`server error: ${error?.message ?? error}`, 3);
    });
  };

  aedes.authorizePublish = (client, packet, callback) => {
    const connection = connectionOf(client);
    if (!connection) return callback(new Error("not authenticated"));
    const topic = guard.sentTopic(packet);
    if (topic.charCodeAt(0) === 36 && BROKER_CONTROL_TOPIC.test(topic)) {
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
    const connection = connectionOf(client);
    if (!connection) return callback(new Error("not authenticated"));
    const topic = guard.sentTopic(subscription);
    const restored = persistence.isRestored(subscription);
    const requested = (requestedQos.get(subscription) ?? subscription.qos ?? 0) as QoS;
    const what = `SUBSCRIBE ${connection.login} "${topic}" qos ${requested}` +
      (restored ? " (restored session)" : "");
    const refused = restored ? "removed from the session with its queued messages" : "SUBACK 0x80";
    if (topic.startsWith("$share/")) {
      log(
        `[mqtt] ${what}: refused, shared subscriptions need MQTT 5 (CloudSignal's hosted ` +
          `broker); this local broker speaks MQTT 3.1.1; ${refused}`,
      );
      if (restored) void persistence.removeSubscriptions(connection.namespacedId, [topic]);
      return callback(null, null);
    }
    const decision = decide(connection, "sub", topic, requested, false);
    const request = allowAll ? null : requestOf(connection, "sub", topic, requested, false);
    if (decision.decision !== "allow") {
      log(`[mqtt] ${what}: ${describeDecision(decision, request!)}; ${refused}`);
      if (restored) void persistence.removeSubscriptions(connection.namespacedId, [topic]);
      return callback(null, null);
    }
    const granted = Math.min(requested, decision.granted_qos ?? 0) as QoS;
    if (request) {
      log(`[mqtt] ${what}: ${describeDecision(decision, request)}; granted qos ${granted}`);
    }
    if (restored && granted < requested) {
      void persistence.lowerSubscription(connection.namespacedId, subscription, granted);
    }
    subscription.qos = granted;
    callback(null, subscription);
  };

  aedes.on("clientDisconnect", (client) => {
    const connection = connectionOf(client);
    if (!connection) return;
    log(`[mqtt] DISCONNECT ${connection.login} (client "${connection.clientId}")`);
    if (connection.sessionId) bySession.get(connection.sessionId)?.delete(client);
  });

  const stopListening = store.onChange((change) => {
    if (change.kind !== "session_revoked") {
      revocation.recheck(change).catch((error) =>
        log(`[mqtt] re-checking subscriptions failed: ${error?.message ?? error}`)
      );
      return;
    }
    const clients = bySession.get(change.session_id);
    if (!clients) return;
    bySession.delete(change.session_id);
    for (const client of clients) {
      const connection = connectionOf(client);
      log(
        `[mqtt] closing ${connection?.login} (client "${connection?.clientId}"): session revoked`,
      );
      client.close();
    }
  });

  const server: Server = createServer(aedes.handle);
  const sockets = new Set<Socket>();
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

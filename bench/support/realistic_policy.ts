/**
 * Realistic generated policies and requests for benchmarks: many tenants, each with device
 * rules (exact users), {$self} agent rules, wildcard subscriptions, prefix selectors, deny
 * rules, granted chat channels and backend publishers. Deterministic for a given size.
 */

import type { AclRequest, Policy, Publisher, Rule } from "../../src/acl/types.ts";

/** A small deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENT_TOPICS = ["inbox", "card", "status", "tasks", "results"];

/** Rules per tenant; tenants grow with the policy. */
const PER_TENANT = 10;

/**
 * The order of a tenant's rule kinds (see `realisticPolicy`): one of each kind first, the
 * second and third device rules last, so that even the 10-rule policy (2 global rules and the
 * first 8 of one tenant) has every kind the requests exercise.
 */
const SLOT_ORDER = [0, 3, 4, 5, 6, 7, 8, 9, 1, 2];

/** The rules every policy starts with, before its tenants' rules. */
const GLOBAL_RULES: Rule[] = [
  { topic: "broadcast/#", action: "sub" },
  { topic: "status/{client_id}", action: "pub", qos: [0, 1] },
];

/** Rules of tenant `t` in a policy of `size` rules. */
function tenantRules(size: number, t: number): number {
  return Math.max(0, Math.min(PER_TENANT, size - GLOBAL_RULES.length - t * PER_TENANT));
}

/** The rule counters `i` of tenant `t`'s device rules in a policy of `size` rules. */
function deviceRules(size: number, t: number): number[] {
  const devices: number[] = [];
  for (let k = 0; k < tenantRules(size, t); k++) {
    if (SLOT_ORDER[k] < 3) devices.push(t * PER_TENANT + k);
  }
  return devices;
}

/** A policy of `size` rules (rules + publisher topics), mixed as real organizations mix them. */
export function realisticPolicy(size: number): Policy {
  const rules: Rule[] = [];
  const publishers: Publisher[] = [];
  const global = structuredClone(GLOBAL_RULES);
  let count = global.length;
  for (let i = 0; count < size; i++) {
    const t = Math.floor(i / PER_TENANT);
    const tenant = `tenants/t${t}`;
    const slot = SLOT_ORDER[i % PER_TENANT];
    count++;
    switch (slot) {
      case 0:
      case 1:
      case 2:
        rules.push({
          topic: `${tenant}/devices/d${i}/telemetry`,
          action: "pub",
          user: `device-${i}`,
        });
        break;
      case 3:
        rules.push({
          topic: `${tenant}/agents/{$self}/${AGENT_TOPICS[t % AGENT_TOPICS.length]}`,
          action: "pub+sub",
          binding: "agent_id",
        });
        break;
      case 4:
        rules.push({ topic: `${tenant}/+/status`, action: "sub", user: `svc-t${t}-*` });
        break;
      case 5:
        rules.push({ topic: `${tenant}/logs/#`, action: "sub", user: `svc-t${t}-*`, qos: [0, 1] });
        break;
      case 6:
        rules.push({ topic: `${tenant}/pipelines/+/tasks`, action: "sub", user: `agent-t${t}-*` });
        break;
      case 7:
        rules.push({
          topic: `${tenant}/admin/#`,
          action: "pub+sub",
          effect: "deny",
          user: `agent-t${t}-*`,
        });
        break;
      case 8:
        rules.push({
          topic: `${tenant}/chat/{room}/messages`,
          action: "pub+sub",
          binding: "channels",
          require_grant: true,
        });
        break;
      case 9:
        publishers.push({
          identity: `backend-t${t}-*`,
          topics: [`${tenant}/notifications/#`],
          qos: [0, 1],
        });
        break;
    }
  }
  return { version: "2.2", default: "deny", global, rules, publishers };
}

/**
 * `count` requests against a policy of `size` rules, the same mix at every size (59 %
 * allowed): each targets a tenant with every rule kind and a device user that has a rule.
 */
export function realisticRequests(size: number, count: number, seed = 1): AclRequest[] {
  const next = random(seed);
  // Tenants with 8 rules or more, that is with every kind.
  const tenants = Math.max(1, Math.floor(size / PER_TENANT));
  const pick = (n: number) => Math.floor(next() * n);
  const requests: AclRequest[] = [];
  for (let k = 0; k < count; k++) {
    const t = pick(tenants);
    const tenant = `tenants/t${t}`;
    const devices = deviceRules(size, t);
    const device = devices[pick(devices.length)];
    switch (pick(8)) {
      case 0:
        requests.push({
          client: { username: `device-${device}`, client_id: `c${device}` },
          action: "pub",
          // Half to its own topic, half to a retired device's, which no policy size has a rule for.
          topic: `${tenant}/devices/d${device}${next() < 0.5 ? "" : "-old"}/telemetry`,
          qos: 1,
        });
        break;
      case 1:
        requests.push({
          client: { username: `agent-t${t}-a`, claims: { agent_id: `a${k % 7}` } },
          action: next() < 0.5 ? "sub" : "pub",
          topic: `${tenant}/agents/a${k % 7 + pick(2)}/${AGENT_TOPICS[t % AGENT_TOPICS.length]}`,
        });
        break;
      case 2:
        requests.push({
          client: { username: `svc-t${t}-monitor` },
          action: "sub",
          topic: `${tenant}/+/status`,
          qos: 1,
        });
        break;
      case 3:
        requests.push({
          client: { username: `svc-t${next() < 0.5 ? t : t + 1}-logs` },
          action: "sub",
          topic: `${tenant}/logs/${next() < 0.5 ? "#" : "app/+"}`,
          qos: 2,
        });
        break;
      case 4:
        requests.push({
          client: { username: `agent-t${t}-b`, claims: { agent_id: "b" } },
          action: "sub",
          topic: `${tenant}/${next() < 0.5 ? "pipelines/p1/tasks" : "admin/keys"}`,
        });
        break;
      case 5:
        requests.push({
          client: { username: `user-${k}`, claims: { channels: "lobby,dev" } },
          action: "pub",
          topic: `${tenant}/chat/${next() < 0.5 ? "lobby" : "ops"}/messages`,
        });
        break;
      case 6:
        requests.push({
          client: { username: `backend-t${t}-mailer` },
          action: "pub",
          topic: `${tenant}/notifications/u${k}`,
          qos: pick(3) as 0 | 1 | 2,
        });
        break;
      default:
        requests.push({
          client: { username: `guest-${k}`, client_id: `g${k}` },
          action: next() < 0.5 ? "sub" : "pub",
          topic: next() < 0.5 ? "broadcast/news" : `status/g${k}`,
        });
    }
  }
  return requests.map(asReceived);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A string as a broker holds it: decoded from a packet's bytes into one flat string. */
function decoded(text: string): string {
  return decoder.decode(encoder.encode(text));
}

/**
 * The request with every string decoded from bytes, as a broker's packet parser makes them
 * (template literals build rope strings, which V8 reads more slowly).
 */
function asReceived(request: AclRequest): AclRequest {
  const { client } = request;
  const claims = client.claims &&
    Object.fromEntries(Object.entries(client.claims).map(([k, v]) => [decoded(k), decoded(v)]));
  return {
    ...request,
    topic: decoded(request.topic),
    client: {
      ...client,
      username: decoded(client.username),
      ...(client.client_id === undefined ? {} : { client_id: decoded(client.client_id) }),
      ...(claims === undefined ? {} : { claims }),
    },
  };
}

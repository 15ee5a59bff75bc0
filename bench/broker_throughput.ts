/**
 * Broker throughput with the ACL hooks on against the same broker with allow-all hooks, in
 * one run: one publisher, one subscriber, QoS 0, N messages per round, the two brokers
 * alternated round by round. The clients speak raw MQTT 3.1.1 over TCP (pre-encoded
 * frames), so the figure is the broker's, not a client library's.
 *
 * The ACL broker decides every PUBLISH with the shared evaluator against a realistic policy
 * (placeholder rules, user selectors, channels) and the publisher's current claims. It keeps
 * each connection's recent decisions until the policy or the claims change (the default);
 * a third broker without that cache shows the evaluator's full cost per message. The
 * publisher cycles through 100 topics.
 *
 * The reported ratio is the median of the per-round ratios (ACL rate / allow-all rate of
 * the same round).
 *
 * Usage: deno run -A bench/broker_throughput.ts [--messages N] [--rounds R] [--json]
 */

import { PlatformStore, type RunningBroker, startBroker } from "../src/platform/mod.ts";
import {
  PUBLISH,
  publishFrame,
  rawClient,
  SUBACK,
  subscribeFrame,
  writeAll,
} from "./support/mqtt_frames.ts";

const args = Deno.args;
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const MESSAGES = option("--messages", 100_000);
const ROUNDS = option("--rounds", 5);
const TOPICS = Array.from({ length: 100 }, (_, i) => `agents/scout/telemetry/engine-${i}`);
const PAYLOAD = new TextEncoder().encode(JSON.stringify({ rpm: 4200, temp: 81.5, ok: true }));

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [
    { topic: "broadcast/#", action: "sub" },
    { topic: "status/{username}", action: "pub", retain: true },
  ],
  rules: [
    { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" },
    { topic: "agents/+/card", action: "sub" },
    { topic: "agents/{$self}/inbox", action: "sub", binding: "agent_id" },
    { topic: "agents/+/inbox", action: "pub", user: "agent-*", retain: false },
    { topic: "agents/{$self}/telemetry/#", action: "pub", binding: "agent_id", qos: [0, 1] },
    { topic: "agents/+/telemetry/#", action: "sub", user: "dashboard" },
    { topic: "agents/{$self}/secrets/#", action: "pub+sub", binding: "agent_id", effect: "deny" },
    { topic: "pipelines/#", action: "pub+sub", user: "orchestrator" },
    { topic: "pipelines/+/tasks", action: "sub", user: "agent-*" },
    { topic: "pipelines/+/results/{$self}", action: "pub", binding: "agent_id", qos: [1, 2] },
    { topic: "chat/{channel}/#", action: "pub+sub", binding: "channels", require_grant: true },
    { topic: "devices/{$self.device}/cmd", action: "sub", binding: "agent_id" },
    { topic: "tenants/{org_short_id}/#", action: "sub", user: "auditor" },
  ],
  publishers: [{ identity: "backend-*", topics: ["notifications/#", "broadcast/#"] }],
};

async function round(broker: RunningBroker, login: string, password: string, n: number) {
  const sub = await rawClient(broker.port, `sub-${n}`, login, password);
  await writeAll(sub.conn, subscribeFrame(1, ["agents/+/telemetry/#"], 0));
  await sub.counter.until(SUBACK, 1);
  const pub = await rawClient(broker.port, `pub-${n}`, login, password);
  const frames = TOPICS.map((topic) => publishFrame(topic, PAYLOAD));
  const batch = 1000;
  const offsets = [0];
  for (let i = 0; i < batch; i++) offsets.push(offsets[i] + frames[i % frames.length].length);
  const chunk = new Uint8Array(offsets[batch]);
  for (let i = 0; i < batch; i++) chunk.set(frames[i % frames.length], offsets[i]);
  const started = performance.now();
  for (let sent = 0; sent < MESSAGES; sent += batch) {
    const count = Math.min(batch, MESSAGES - sent);
    await writeAll(pub.conn, chunk.subarray(0, offsets[count]));
  }
  await sub.counter.until(PUBLISH, MESSAGES);
  const seconds = (performance.now() - started) / 1000;
  pub.conn.close();
  sub.conn.close();
  return MESSAGES / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const dir = await Deno.makeTempDir({ prefix: "cloudsignal-bench-" });
const store = await PlatformStore.open(dir);
const org = store.createOrganization({ name: "Bench", short_id: "bench" });
store.putPolicy(org.id, JSON.stringify(POLICY), null, null);
const user = await store.createUser({
  org_id: org.id,
  email: "scout@bench.test",
  password: "bench-password",
  username: "dashboard",
  mqtt_password: "bench-password",
});
store.setClaim(user.id, "agent_id", "scout");
store.setClaim(user.id, "channels", "lobby,ops");
const quiet = () => {};
const acl = await startBroker({
  store,
  port: 0,
  log: quiet,
  logAllowedPublishes: false,
  hooks: "acl",
});
const uncached = await startBroker({
  store,
  port: 0,
  log: quiet,
  logAllowedPublishes: false,
  hooks: "acl",
  decisionCache: false,
});
const open = await startBroker({
  store,
  port: 0,
  log: quiet,
  logAllowedPublishes: false,
  hooks: "allow-all",
});
const login = "dashboard@bench";

const brokers = [acl, uncached, open];
const rates = new Map<RunningBroker, number[]>(brokers.map((broker) => [broker, []]));
for (const broker of brokers) await round(broker, login, "bench-password", -1);
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? brokers : [...brokers].reverse();
  for (const broker of order) {
    rates.get(broker)!.push(await round(broker, login, "bench-password", r));
  }
}
for (const broker of brokers) await broker.close();
const aclRates = rates.get(acl)!;
const uncachedRates = rates.get(uncached)!;
const openRates = rates.get(open)!;
store.close();
await Deno.remove(dir, { recursive: true });

const aclMedian = median(aclRates);
const openMedian = median(openRates);
const uncachedMedian = median(uncachedRates);
// Each round runs the brokers back to back, so the ratio of a round's rates is little
// disturbed by load that changes between rounds; the figure is the median of those ratios.
const ratio = median(aclRates.map((rate, r) => rate / openRates[r]));
const uncachedRatio = median(uncachedRates.map((rate, r) => rate / openRates[r]));
const result = {
  messages_per_round: MESSAGES,
  rounds: ROUNDS,
  acl_msgs_per_s: Math.round(aclMedian),
  acl_uncached_msgs_per_s: Math.round(uncachedMedian),
  allow_all_msgs_per_s: Math.round(openMedian),
  ratio: Number(ratio.toFixed(3)),
  acl_cost_percent: Number(((1 - ratio) * 100).toFixed(1)),
  uncached_ratio: Number(uncachedRatio.toFixed(3)),
  uncached_cost_percent: Number(((1 - uncachedRatio) * 100).toFixed(1)),
  acl_rounds: aclRates.map(Math.round),
  acl_uncached_rounds: uncachedRates.map(Math.round),
  allow_all_rounds: openRates.map(Math.round),
};
if (args.includes("--json")) console.log(JSON.stringify(result));
else {
  console.log(
    `Broker throughput, QoS 0, 1 publisher -> 1 subscriber, ${MESSAGES} messages x ${ROUNDS} rounds (median):`,
  );
  console.log(
    `  ACL hooks:        ${result.acl_msgs_per_s.toLocaleString("en")} msg/s  (${
      result.acl_rounds.join(", ")
    })`,
  );
  console.log(
    `  ACL, no cache:    ${result.acl_uncached_msgs_per_s.toLocaleString("en")} msg/s  (${
      result.acl_uncached_rounds.join(", ")
    })`,
  );
  console.log(
    `  allow-all hooks:  ${result.allow_all_msgs_per_s.toLocaleString("en")} msg/s  (${
      result.allow_all_rounds.join(", ")
    })`,
  );
  console.log(
    `  ratio ${result.ratio} -> the ACL costs ${result.acl_cost_percent} % (budget: 10 %)`,
  );
  console.log(
    `  without the decision cache: ratio ${result.uncached_ratio} (${result.uncached_cost_percent} %)`,
  );
}

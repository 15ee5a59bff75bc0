/**
 * The cost of a policy update with many connected clients. After every update the broker
 * decides each existing subscription of the organization again (`src/platform/revocation.ts`),
 * so an update of an organization with 1,000 connected clients (3 subscriptions each: a
 * {$self} inbox, a wildcard feed, a granted chat channel) is timed against the same update of
 * an organization without clients, on the same broker and store, alternating round by round.
 *
 * Two kinds of update: one that changes no decision (every subscription is decided again
 * and kept) and one that revokes the feed of every client (1,000 removals, each logged).
 * The timed call is `PlatformStore.putPolicy`, which the API's PUT /v2/acl/policy ends with:
 * it writes the revision, compiles it and runs the re-check before it returns. The broker's
 * own figure for the re-check comes from its log line.
 *
 * Usage: deno run -A bench/broker_revocation.ts [--clients N] [--rounds R] [--rules N] [--json]
 */

import { PlatformStore, startBroker } from "../src/platform/mod.ts";
import type { Policy } from "../src/acl/types.ts";
import { realisticPolicy } from "./support/realistic_policy.ts";
import { rawClient, SUBACK, subscribeFrame, writeAll } from "./support/mqtt_frames.ts";

const args = Deno.args;
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const CLIENTS = option("--clients", 1000);
const ROUNDS = option("--rounds", 15);
const RULES = option("--rules", 100);
const USERS = 10;

const filler = realisticPolicy(RULES);

/** The organization's policy: `variant` changes no decision; `revoke` drops the feed. */
function policy(variant: number, revoke: boolean): string {
  const document: Policy = {
    ...filler,
    global: [
      ...(revoke ? [] : [{ topic: "fleet/news/#", action: "sub" as const }]),
      { topic: `fleet/variant-${variant}`, action: "pub" },
      ...filler.global!,
    ],
    rules: [
      { topic: "fleet/agents/{$self}/inbox", action: "sub", binding: "agent_id" },
      {
        topic: "fleet/chat/{channel}/#",
        action: "pub+sub",
        binding: "channels",
        require_grant: true,
      },
      ...filler.rules!,
    ],
  };
  return JSON.stringify(document);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const dir = await Deno.makeTempDir({ prefix: "cloudsignal-bench-" });
const store = await PlatformStore.open(dir);
const busy = store.createOrganization({ name: "Busy", short_id: "busy" });
const idle = store.createOrganization({ name: "Idle", short_id: "idle" });
for (const org of [busy, idle]) store.putPolicy(org.id, policy(0, false), null, null);

const users = [];
for (let u = 0; u < USERS; u++) {
  const user = await store.createUser({
    org_id: busy.id,
    email: `agent-${u}@bench.test`,
    password: "bench-password",
    username: `agent-${u}`,
  });
  store.setClaim(user.id, "agent_id", `a${u}`);
  store.setClaim(user.id, "channels", "lobby,ops");
  const tokens = await store.createSession(user.id, "cloudsignal-cli", {
    accessTtlSeconds: 3600,
    refreshTtlSeconds: 3600,
  });
  users.push({ login: `agent-${u}@busy`, token: tokens.access_token, agent: `a${u}` });
}

const rechecks: number[] = [];
let revokedLines = 0;
const broker = await startBroker({
  store,
  port: 0,
  logAllowedPublishes: false,
  log: (line) => {
    const recheck = / in ([0-9.]+) ms: /.exec(line);
    if (recheck && line.startsWith("[mqtt] re-checked")) rechecks.push(Number(recheck[1]));
    else if (line.includes(") revoked after ")) revokedLines++;
  },
});

const loadBefore = Deno.loadavg();
const clients = [];
for (let c = 0; c < CLIENTS; c++) {
  const user = users[c % USERS];
  const client = await rawClient(broker.port, `client-${c}`, user.login, user.token);
  await writeAll(
    client.conn,
    subscribeFrame(
      1,
      [`fleet/agents/${user.agent}/inbox`, "fleet/news/#", "fleet/chat/lobby/#"],
      1,
    ),
  );
  clients.push(client);
}
await Promise.all(clients.map((client) => client.counter.until(SUBACK, 1)));

/** Times one update of `orgId`; returns [ms, the broker's re-check ms or 0 without clients]. */
function update(orgId: string, text: string): [number, number] {
  const before = rechecks.length;
  const started = performance.now();
  store.putPolicy(orgId, text, null, null);
  const ms = performance.now() - started;
  return [ms, rechecks.length > before ? rechecks[rechecks.length - 1] : 0];
}

const kept = { busy: [] as number[], idle: [] as number[], recheck: [] as number[] };
const revoked = { busy: [] as number[], idle: [] as number[], recheck: [] as number[] };
let variant = 1;
for (let r = 0; r < ROUNDS; r++) {
  const text = policy(variant++, false);
  const orgs = r % 2 === 0 ? [busy, idle] : [idle, busy];
  for (const org of orgs) {
    const [ms, recheck] = update(org.id, text);
    if (org === busy) kept.recheck.push(recheck);
    (org === busy ? kept.busy : kept.idle).push(ms);
  }
}
await new Promise((resolve) => setTimeout(resolve, 0));
const revokeRounds = Math.max(3, Math.floor(ROUNDS / 3));
for (let r = 0; r < revokeRounds; r++) {
  const text = policy(variant++, true);
  const orgs = r % 2 === 0 ? [busy, idle] : [idle, busy];
  const linesBefore = revokedLines;
  for (const org of orgs) {
    const [ms, recheck] = update(org.id, text);
    if (org === busy) revoked.recheck.push(recheck);
    (org === busy ? revoked.busy : revoked.idle).push(ms);
  }
  if (revokedLines - linesBefore !== CLIENTS) {
    throw new Error(
      `expected ${CLIENTS} revocations, the broker logged ${revokedLines - linesBefore}`,
    );
  }
  // Allow the feed again and subscribe every client to it again (not timed).
  for (const org of [busy, idle]) store.putPolicy(org.id, policy(variant++, false), null, null);
  await Promise.all(clients.map(async (client, c) => {
    await writeAll(client.conn, subscribeFrame(2 + r, ["fleet/news/#"], 1));
    await client.counter.until(SUBACK, 2 + r);
    return c;
  }));
}
const loadAfter = Deno.loadavg();
for (const client of clients) client.conn.close();
await broker.close();
store.close();
await Deno.remove(dir, { recursive: true });

const subscriptions = CLIENTS * 3;
const twoDecimals = (value: number) => Number(value.toFixed(2));
const result = {
  clients: CLIENTS,
  subscriptions,
  policy_rules: RULES + 4,
  rounds: ROUNDS,
  revoking_rounds: revokeRounds,
  kept_update_ms: twoDecimals(median(kept.busy)),
  kept_update_without_clients_ms: twoDecimals(median(kept.idle)),
  kept_ratio: twoDecimals(median(kept.busy.map((ms, r) => ms / kept.idle[r]))),
  kept_recheck_ms: twoDecimals(median(kept.recheck)),
  kept_recheck_us_per_subscription: twoDecimals((median(kept.recheck) * 1000) / subscriptions),
  revoking_update_ms: twoDecimals(median(revoked.busy)),
  revoking_update_without_clients_ms: twoDecimals(median(revoked.idle)),
  revoking_recheck_ms: twoDecimals(median(revoked.recheck)),
  load_before: loadBefore.map(twoDecimals),
  load_after: loadAfter.map(twoDecimals),
};
if (args.includes("--json")) console.log(JSON.stringify(result));
else {
  console.log(
    `Policy update with ${CLIENTS} connected clients (${subscriptions} subscriptions), ` +
      `policy of ${result.policy_rules} rules, medians of ${ROUNDS} (${revokeRounds} revoking) rounds:`,
  );
  console.log(
    `  no decision changes: ${result.kept_update_ms} ms vs ${result.kept_update_without_clients_ms} ms ` +
      `without clients (ratio ${result.kept_ratio}); re-check ${result.kept_recheck_ms} ms ` +
      `(${result.kept_recheck_us_per_subscription} µs per subscription)`,
  );
  console.log(
    `  revoking every client's feed: ${result.revoking_update_ms} ms vs ` +
      `${result.revoking_update_without_clients_ms} ms without clients; re-check ` +
      `${result.revoking_recheck_ms} ms`,
  );
  console.log(
    `  load average before ${result.load_before.join(" ")}, after ${result.load_after.join(" ")}`,
  );
}

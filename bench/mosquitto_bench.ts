/**
 * The evaluator against mosquitto's default ACL check, on the same generated rules and
 * requests, in one run: 10, 100, 1,000, 10,000 and 100,000 rules (bench/support/
 * realistic_policy.ts). The peer (bench/support/mosquitto_peer.c) is built with gcc against
 * Debian's libmosquitto-dev into a temporary directory; it runs in two forms: as mosquitto
 * 2.0.11 checks (one allocation per pattern and check) and without that allocation, the
 * stricter baseline. Before measuring, the peer's decisions are checked equal to ours on
 * every request both can decide (the others are counted by reason, see
 * bench/support/mosquitto_peer.ts).
 *
 * Rounds are interleaved: each round runs every size and engine for ~`--round-ms` in rotating
 * order, so drift on this shared machine hits all alike; figures are medians over rounds,
 * ratios also over each side's best round.
 *
 * Usage: deno run -A --v8-flags=--expose-gc bench/mosquitto_bench.ts [--quick] [--json]
 *          [--sizes 10,100] [--rounds 15] [--round-ms 100]
 */

import { parseArgs } from "node:util";
import { compilePolicy } from "../src/acl/compile.ts";
import { evaluate } from "../src/acl/evaluate.ts";
import type { AclRequest } from "../src/acl/types.ts";
import { realisticPolicy, realisticRequests } from "./support/realistic_policy.ts";
import {
  buildPeer,
  exclusion,
  PeerProcess,
  peerRequests,
  translatePolicy,
} from "./support/mosquitto_peer.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    sizes: { type: "string", default: "10,100,1000,10000,100000" },
    rounds: { type: "string" },
    "round-ms": { type: "string" },
  },
});
const SIZES = flags.sizes.split(",").map(Number);
const ROUNDS = Number(flags.rounds ?? (flags.quick ? 5 : 15));
const ROUND_MS = Number(flags["round-ms"] ?? (flags.quick ? 60 : 100));
const REQUESTS = 4096;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

/** Decisions per second of the evaluator over a round of at least `ms` milliseconds. */
function ourRound(decide: (request: AclRequest) => boolean, requests: AclRequest[], ms: number) {
  let allowed = 0;
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < requests.length; i++) if (decide(requests[i])) allowed++;
    done += requests.length;
    elapsed = performance.now() - start;
  }
  if (allowed < 0) console.log(allowed);
  return done / (elapsed / 1000);
}

interface Engine {
  name: string;
  round: (ms: number) => Promise<number> | number;
}

interface SizeSetup {
  size: number;
  engines: Engine[];
  compared: number;
  excluded: Record<string, number>;
  peers: PeerProcess[];
}

async function setUp(binary: string, size: number): Promise<SizeSetup> {
  const policy = realisticPolicy(size);
  const requests = realisticRequests(size, REQUESTS);
  const acl = translatePolicy(policy);
  const input = peerRequests(requests);
  const peer = await PeerProcess.start(binary, acl.text, input, true);
  const strict = await PeerProcess.start(binary, acl.text, input, false);
  const compiled = compilePolicy(policy);
  const [theirs, theirsStrict] = [await peer.decisions(), await strict.decisions()];
  const excluded: Record<string, number> = {};
  let compared = 0;
  requests.forEach((request, i) => {
    const why = exclusion(acl, request);
    if (why !== null) {
      excluded[why] = (excluded[why] ?? 0) + 1;
      return;
    }
    compared++;
    const ours = evaluate(compiled, request).decision === "allow";
    if (ours !== theirs[i] || ours !== theirsStrict[i]) {
      throw new Error(
        `${size} rules: mosquitto ${theirs[i] ? "allows" : "denies"} and the evaluator ` +
          `${ours ? "allows" : "denies"} ${JSON.stringify(request)}`,
      );
    }
  });
  return {
    size,
    compared,
    excluded,
    peers: [peer, strict],
    engines: [
      {
        name: "evaluator",
        round: (ms) =>
          ourRound((request) => evaluate(compiled, request).decision === "allow", requests, ms),
      },
      { name: "mosquitto", round: (ms) => peer.round(ms) },
      { name: "mosquitto without allocation", round: (ms) => strict.round(ms) },
    ],
  };
}

async function main() {
  console.error("building the mosquitto peer (gcc, libmosquitto-dev)…");
  const binary = await buildPeer();
  const setups: SizeSetup[] = [];
  for (const size of SIZES) {
    console.error(`${size} rules: translating, checking decisions…`);
    setups.push(await setUp(binary, size));
  }
  collectGarbage();
  const runs = setups.flatMap((setup) => setup.engines.map((engine) => ({ setup, engine })));
  const rates: number[][] = runs.map(() => []);
  for (const run of runs) await run.engine.round(ROUND_MS / 2);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < runs.length; k++) {
      const which = (k + round) % runs.length;
      rates[which].push(await runs[which].engine.round(ROUND_MS));
    }
    console.error(`round ${round + 1} of ${ROUNDS}`);
  }
  for (const setup of setups) for (const peer of setup.peers) await peer.close();
  await Deno.remove(binary.slice(0, binary.lastIndexOf("/")), { recursive: true });

  const ns = (index: number, pick: (values: number[]) => number) => 1e9 / pick(rates[index]);
  const best = (values: number[]) => Math.max(...values);
  const sizes = setups.map((setup, s) => {
    const at = (engine: number) => s * setup.engines.length + engine;
    const [ours, peer, strict] = [0, 1, 2].map((engine) => ({
      median: ns(at(engine), median),
      best: ns(at(engine), best),
    }));
    return {
      rules: setup.size,
      evaluatorNs: ours,
      mosquittoNs: peer,
      mosquittoWithoutAllocationNs: strict,
      /** How many times faster the evaluator is (over 1: ahead of the peer). */
      ratio: { median: peer.median / ours.median, best: peer.best / ours.best },
      ratioWithoutAllocation: {
        median: strict.median / ours.median,
        best: strict.best / ours.best,
      },
      compared: setup.compared,
      requests: REQUESTS,
      excluded: setup.excluded,
    };
  });
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  if (flags.json) {
    console.log(JSON.stringify({ rounds: ROUNDS, roundMs: ROUND_MS, load, sizes }, null, 2));
    return;
  }
  const fmt = (n: number) =>
    n >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
  console.log(
    "| rules | evaluator ns | mosquitto ns | × | mosquitto without allocation ns | × | compared |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|");
  for (const size of sizes) {
    console.log(
      `| ${fmt(size.rules)} | ${fmt(size.evaluatorNs.median)} (${fmt(size.evaluatorNs.best)}) | ${
        fmt(size.mosquittoNs.median)
      } (${fmt(size.mosquittoNs.best)}) | ${size.ratio.median.toFixed(2)} (${
        size.ratio.best.toFixed(2)
      }) | ${fmt(size.mosquittoWithoutAllocationNs.median)} (${
        fmt(size.mosquittoWithoutAllocationNs.best)
      }) | ${size.ratioWithoutAllocation.median.toFixed(2)} (${
        size.ratioWithoutAllocation.best.toFixed(2)
      }) | ${size.compared} of ${size.requests} |`,
    );
  }
  console.log("");
  console.log(
    "ns per decision: median over rounds (best round); ×: how many times faster the evaluator " +
      `is. ${ROUNDS} interleaved rounds of ${ROUND_MS} ms; load average at the end: ${load}.`,
  );
  console.log("Requests left out of the decision check, by reason (at each size):");
  for (const size of sizes) {
    const reasons = Object.entries(size.excluded).map(([why, n]) => `${why} ${n}`).join(", ");
    console.log(`- ${fmt(size.rules)} rules: ${reasons}`);
  }
}

await main();

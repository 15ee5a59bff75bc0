/**
 * ACL engine benchmarks, measured in one run against baselines from the same run:
 * - decisions per second of the indexed evaluator and of the plain reference evaluator on
 *   realistic policies of 10, 1,000, 10,000 and 100,000 rules;
 * - cost per decision at 100,000 rules relative to 10 rules;
 * - compiling a 100,000-rule policy; validating a 10,000-rule file;
 * - `acl simulate` start-up relative to an empty `deno run`.
 *
 * This machine is shared and noisy, so sizes are measured in interleaved rounds (each round
 * runs every size for ~100 ms, in rotating order) and each figure is the median over rounds:
 * drift then hits all sizes alike and the ratios stay meaningful. Garbage from generating and
 * compiling is collected before measuring, as a broker measures its steady state.
 *
 * Usage: deno run -A --v8-flags=--expose-gc bench/acl_bench.ts [--quick] [--json]
 */

import { compilePolicy } from "../src/acl/compile.ts";
import { evaluate } from "../src/acl/evaluate.ts";
import { validatePolicyText } from "../src/acl/validate.ts";
import type { AclRequest, Policy } from "../src/acl/types.ts";
import { referenceEvaluate } from "../tests/acl/support/reference_evaluator.ts";
import { realisticPolicy, realisticRequests } from "./support/realistic_policy.ts";
import { SIMULATE_ARGS } from "./support/simulate_command.ts";

const quick = Deno.args.includes("--quick");
const SIZES = [10, 1_000, 10_000, 100_000];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Workload {
  decide: (request: AclRequest) => boolean;
  requests: AclRequest[];
}

/** Each workload's decisions per second in every one of the interleaved rounds of ~`roundMs`. */
function interleavedThroughput(
  workloads: Workload[],
  roundMs: number,
  rounds: number,
): number[][] {
  let sink = 0;
  const run = ({ decide, requests }: Workload) => {
    let done = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < roundMs) {
      for (let i = 0; i < requests.length; i++) sink += decide(requests[i]) ? 1 : 0;
      done += requests.length;
      elapsed = performance.now() - start;
    }
    return done / (elapsed / 1000);
  };
  for (const workload of workloads) run(workload);
  const rates: number[][] = workloads.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < workloads.length; k++) {
      const which = (k + round) % workloads.length;
      rates[which].push(run(workloads[which]));
    }
  }
  if (sink < 0) console.log(sink);
  return rates;
}

function timeMs(run: () => unknown, repeat: number): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function spawnMs(args: string[]): Promise<number> {
  const start = performance.now();
  const result = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" })
    .output();
  if (!result.success) throw new Error(`failed: deno ${args.join(" ")}`);
  return performance.now() - start;
}

/** Alternates the two commands so machine noise hits both alike. */
async function startupRatio(runs: number): Promise<{ empty: number; simulate: number }> {
  const empty = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(empty, 'console.log("ok");\n');
  const main = new URL("../main.ts", import.meta.url).pathname;
  const simulate = ["run", "-A", main, ...SIMULATE_ARGS];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 3; i++) {
    await spawnMs(["run", empty]);
    await spawnMs(simulate);
  }
  for (let i = 0; i < runs; i++) {
    a.push(await spawnMs(["run", empty]));
    b.push(await spawnMs(simulate));
  }
  await Deno.remove(empty);
  return { empty: median(a), simulate: median(b) };
}

interface SizeResult {
  rules: number;
  compileMs: number;
  indexedPerSecond: number;
  referencePerSecond: number;
}

const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

async function main() {
  const results: SizeResult[] = [];
  const policies = new Map<number, Policy>();
  const indexed: Workload[] = [];
  const reference: Workload[] = [];
  const requestsBySize = new Map<number, AclRequest[]>();
  for (const size of SIZES) {
    const policy = realisticPolicy(size);
    policies.set(size, policy);
    const requests = realisticRequests(size, 4096);
    requestsBySize.set(size, requests);
    const compiled = compilePolicy(policy);
    let agree = 0;
    for (const request of requests.slice(0, 300)) {
      const fast = evaluate(compiled, request);
      const plain = referenceEvaluate(policy, request);
      if (fast.decision === plain.decision && (fast.matched?.pointer ?? null) === plain.pointer) {
        agree++;
      }
    }
    if (agree !== 300) {
      throw new Error(`evaluators disagree on ${300 - agree} of 300 requests at ${size} rules`);
    }
    const allowed = requests.filter((request) =>
      evaluate(compiled, request).decision === "allow"
    ).length;
    console.error(
      `${size} rules: ${(100 * allowed / requests.length).toFixed(0)} % of requests allowed`,
    );
    reference.push({
      decide: (request) => referenceEvaluate(policy, request).decision === "allow",
      requests: requests.slice(0, size >= 100_000 ? 16 : size >= 10_000 ? 128 : 1024),
    });
  }
  // The measured policies are compiled afresh, after the checks' garbage is gone: each starts
  // with empty caches and a heap laid out alike, as a broker's newly loaded policy would.
  collectGarbage();
  for (const size of SIZES) {
    const compiled = compilePolicy(policies.get(size)!);
    indexed.push({
      decide: (request) => evaluate(compiled, request).decision === "allow",
      requests: requestsBySize.get(size)!,
    });
  }
  collectGarbage();
  const indexedRounds = interleavedThroughput(indexed, quick ? 60 : 100, quick ? 7 : 25);
  const indexedRates = indexedRounds.map(median);
  // Other tenants of the machine only ever slow a round down, and they slow the sizes that miss
  // the caches far more than the 10-rule one: the best round estimates each size's own cost.
  const indexedBest = indexedRounds.map((rates) => Math.max(...rates));
  const referenceRates = interleavedThroughput(reference, quick ? 60 : 150, quick ? 3 : 5)
    .map(median);
  for (const [k, size] of SIZES.entries()) {
    const policy = policies.get(size)!;
    const compileMs = timeMs(() => compilePolicy(policy), size >= 100_000 ? 5 : 9);
    results.push({
      rules: size,
      compileMs,
      indexedPerSecond: indexedRates[k],
      referencePerSecond: referenceRates[k],
    });
    console.error(
      `${size} rules: ${
        Math.round(indexedRates[k]).toLocaleString("en-US")
      } decisions/s, reference ${Math.round(referenceRates[k]).toLocaleString("en-US")}/s`,
    );
  }
  const text10k = JSON.stringify(policies.get(10_000), null, 2);
  const validateMs = timeMs(() => {
    const result = validatePolicyText(text10k);
    if (!result.valid) throw new Error(JSON.stringify(result.findings.slice(0, 3)));
  }, 7);
  const startup = await startupRatio(quick ? 10 : 30);

  const at = (size: number) => results.find((result) => result.rules === size)!;
  const cost = (size: number) => 1e9 / at(size).indexedPerSecond;
  const report = {
    sizes: results.map((result) => ({
      ...result,
      nsPerDecision: 1e9 / result.indexedPerSecond,
      speedupOverReference: result.indexedPerSecond / result.referencePerSecond,
    })),
    costRatio100kTo10: cost(100_000) / cost(10),
    bestRoundNsPerDecision: SIZES.map((size, k) => ({ rules: size, ns: 1e9 / indexedBest[k] })),
    bestRoundCostRatio100kTo10: indexedBest[0] / indexedBest[SIZES.indexOf(100_000)],
    compile100kMs: at(100_000).compileMs,
    validate10kFileMs: validateMs,
    validate10kFileBytes: new TextEncoder().encode(text10k).length,
    startup: { ...startup, ratio: startup.simulate / startup.empty },
  };
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(
    "| rules | decisions/s (indexed) | ns/decision | reference decisions/s | indexed ÷ reference | compile |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const size of report.sizes) {
    console.log(
      `| ${fmt(size.rules)} | ${fmt(size.indexedPerSecond)} | ${size.nsPerDecision.toFixed(0)} | ${
        fmt(size.referencePerSecond)
      } | ${size.speedupOverReference.toFixed(0)}× | ${size.compileMs.toFixed(1)} ms |`,
    );
  }
  console.log("");
  console.log(
    `- cost per decision at 100,000 rules ÷ at 10 rules: ${
      report.costRatio100kTo10.toFixed(2)
    } (medians); ${report.bestRoundCostRatio100kTo10.toFixed(2)} (best rounds: ${
      report.bestRoundNsPerDecision.map(({ rules, ns }) => `${fmt(rules)}: ${ns.toFixed(0)} ns`)
        .join(", ")
    })`,
  );
  console.log(`- compile 100,000 rules: ${report.compile100kMs.toFixed(0)} ms`);
  console.log(
    `- validate a 10,000-rule file (${(report.validate10kFileBytes / 1024).toFixed(0)} KiB): ${
      report.validate10kFileMs.toFixed(0)
    } ms`,
  );
  console.log(
    `- start-up: empty \`deno run\` ${
      report.startup.empty.toFixed(1)
    } ms, \`acl simulate --policy\` ${report.startup.simulate.toFixed(1)} ms (median of ${
      quick ? 10 : 30
    }): ratio ${report.startup.ratio.toFixed(2)}`,
  );
}

await main();

/**
 * Runs every benchmark, one after the other (never in parallel: each measures ratios against
 * a baseline taken in the same run, and a second load would skew both sides unevenly).
 * The figures belong in docs/performance.md.
 *
 * Usage: deno run -A bench/run_all.ts [--quick]
 */

const quick = Deno.args.includes("--quick");

const BENCHES: [string, string[]][] = [
  ["ACL engine", ["--v8-flags=--expose-gc", "bench/acl_bench.ts", ...(quick ? ["--quick"] : [])]],
  [
    "ACL engine against mosquitto",
    ["--v8-flags=--expose-gc", "bench/mosquitto_bench.ts", ...(quick ? ["--quick"] : [])],
  ],
  ["Start-up", ["bench/startup.ts", "--runs", quick ? "10" : "30"]],
  ["Broker throughput", ["bench/broker_throughput.ts", "--rounds", quick ? "3" : "7"]],
  ["Policy update with connected clients", [
    "bench/broker_revocation.ts",
    "--rounds",
    quick ? "6" : "15",
  ]],
  ["Token endpoint", ["bench/token_endpoint.ts", ...(quick ? ["--requests", "2000"] : [])]],
];

let failed = 0;
for (const [title, args] of BENCHES) {
  console.log(`\n## ${title}\n`);
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!result.success) {
    console.error(`${title}: failed (exit ${result.code})`);
    failed++;
  }
}
Deno.exit(failed > 0 ? 1 : 0);

/**
 * Start-up of `cloudsignal mcp`: from spawning `deno run -A main.ts mcp` to the answer of
 * its `initialize` on stdout, against an empty `deno run` measured in the same run,
 * interleaved (one of each per round, so a change of machine load hits both alike).
 * With `--base <dir>` (a checkout of the commit before the MCP server), it also times
 * `--version` and `acl simulate` of both trees, to show other commands start as before.
 *
 * Usage: deno run -A bench/mcp_startup.ts [--runs 31] [--base <dir>] [--json]
 */

import { parseArgs } from "node:util";
import { SIMULATE_ARGS } from "./support/simulate_command.ts";
import { loadAverage, median, quantile } from "./support/stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const INITIALIZE = `${
  JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bench", version: "1" },
    },
  })
}\n`;

interface Variant {
  name: string;
  run(): Promise<number>;
}

/** Milliseconds from spawn to exit. */
function exitTime(args: string[], cwd = ROOT): () => Promise<number> {
  return async () => {
    const started = performance.now();
    const result = await new Deno.Command(Deno.execPath(), {
      args,
      cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    const elapsed = performance.now() - started;
    if (!result.success) throw new Error(`${args.join(" ")} failed`);
    return elapsed;
  };
}

/** Milliseconds from spawn to the first line on stdout (the initialize answer). */
function initializeTime(main: string, home: string): () => Promise<number> {
  return async () => {
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "mcp"],
      env: { CLOUDSIGNAL_HOME: home },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(INITIALIZE));
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the server ended before answering initialize");
      text += new TextDecoder().decode(value);
    }
    const elapsed = performance.now() - started;
    if (!JSON.parse(text.split("\n")[0]).result?.serverInfo) throw new Error(`answer: ${text}`);
    await writer.close();
    reader.releaseLock();
    await child.stdout.cancel();
    await child.status;
    return elapsed;
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "31" },
      base: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const runs = Number(values.runs);
  const work = await Deno.makeTempDir({ prefix: "cloudsignal-bench-mcp-" });
  const empty = `${work}/empty.mjs`;
  await Deno.writeTextFile(empty, "");
  const variants: Variant[] = [
    { name: "empty deno run", run: exitTime(["run", "-A", "--no-config", empty]) },
    { name: "mcp: spawn → initialize answered", run: initializeTime(`${ROOT}main.ts`, work) },
    { name: "--version", run: exitTime(["run", "-A", `${ROOT}main.ts`, "--version"]) },
    {
      name: "acl simulate",
      run: exitTime(["run", "-A", `${ROOT}main.ts`, ...SIMULATE_ARGS]),
    },
  ];
  if (values.base) {
    const base = values.base.replace(/\/$/, "");
    variants.push(
      {
        name: "--version (base)",
        run: exitTime(["run", "-A", `${base}/main.ts`, "--version"], base),
      },
      {
        name: "acl simulate (base)",
        run: exitTime(["run", "-A", `${base}/main.ts`, ...SIMULATE_ARGS], base),
      },
    );
  }
  const loadBefore = await loadAverage();
  // Warm-up: fills Deno's caches (code cache, npm resolution) for every variant.
  for (let i = 0; i < 3; i++) for (const variant of variants) await variant.run();
  const times = variants.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) {
    // Rotate the order so no variant always runs right after the same one.
    for (let k = 0; k < variants.length; k++) {
      const index = (k + round) % variants.length;
      times[index].push(await variants[index].run());
    }
  }
  const loadAfter = await loadAverage();
  await Deno.remove(work, { recursive: true });
  const baseline = median(times[0]);
  const rows = variants.map((variant, i) => ({
    variant: variant.name,
    median_ms: +median(times[i]).toFixed(1),
    p25_ms: +quantile(times[i], 0.25).toFixed(1),
    p75_ms: +quantile(times[i], 0.75).toFixed(1),
    median_vs_empty_deno_run: +(median(times[i]) / baseline).toFixed(2),
  }));
  if (values.json) {
    console.log(JSON.stringify({ deno: Deno.version.deno, runs, loadBefore, loadAfter, rows }));
    return;
  }
  console.log(
    `\nDeno ${Deno.version.deno}, ${runs} interleaved rounds (3 warm-ups); ` +
      `load average before ${loadBefore}, after ${loadAfter}`,
  );
  console.log("| variant | median ms | p25 ms | p75 ms | median × empty deno run |");
  console.log("|---|---:|---:|---:|---:|");
  for (const row of rows) {
    console.log(
      `| ${row.variant} | ${row.median_ms} | ${row.p25_ms} | ${row.p75_ms} | ${row.median_vs_empty_deno_run} |`,
    );
  }
}

await main();

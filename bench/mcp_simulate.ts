/**
 * `acl_simulate` against a 10,000-rule policy given by path, warm: the compiled policy comes
 * from the cache keyed by content hash. Measured three ways, in one run:
 * - in process: `PolicyCache.load` + the decision, against the uncached load a cold call
 *   pays (`loadValidPolicy`);
 * - in the server: the time the real `cloudsignal mcp --debug` logs for each call (from the
 *   arguments checked to the result built);
 * - over stdio: the SDK client's round trip of each call, against a `ping` round trip
 *   measured interleaved (the protocol's own cost).
 *
 * Usage: deno run -A bench/mcp_simulate.ts [--calls 300] [--size 10000] [--json]
 */

import { parseArgs } from "node:util";
import { Client } from "npm:@modelcontextprotocol/sdk@1.32.2/client";
import { StdioClientTransport as StdioJs } from "npm:@modelcontextprotocol/sdk@1.32.2/client/stdio.js";
import type { StdioClientTransport as StdioTypes } from "npm:@modelcontextprotocol/sdk@1.32.2/client/stdio";
import type { AclRequest } from "../src/acl/types.ts";
import { PolicyCache } from "../src/policy/policy_cache.ts";
import { loadValidPolicy } from "../src/policy/source.ts";
import { decide } from "../src/policy/simulate.ts";
import { realisticPolicy, realisticRequests } from "./support/realistic_policy.ts";
import { loadAverage, median, quantile } from "./support/stats.ts";

const StdioClientTransport = StdioJs as unknown as typeof StdioTypes;
const ROOT = new URL("../", import.meta.url).pathname;

function toolArguments(request: AclRequest, path: string): Record<string, unknown> {
  const args: Record<string, unknown> = {
    action: request.action,
    topic: request.topic,
    username: request.client.username,
    policy_path: path,
  };
  if (request.qos !== undefined) args.qos = request.qos;
  if (request.retain) args.retain = true;
  if (request.client.client_id) args.client_id = request.client.client_id;
  if (request.client.claims) args.claims = request.client.claims;
  return args;
}

async function inProcess(path: string, requests: AclRequest[]) {
  const cache = new PolicyCache();
  const cold = performance.now();
  await cache.load({ path });
  const coldMs = performance.now() - cold;
  const uncached: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < requests.length; i++) {
    if (i < 10) {
      const started = performance.now();
      const loaded = await loadValidPolicy({ path });
      decide(loaded.compiled, requests[i], false);
      uncached.push(performance.now() - started);
    }
    const started = performance.now();
    const loaded = await cache.load({ path });
    decide(loaded.compiled, requests[i], false);
    warm.push(performance.now() - started);
    if (cache.lastOutcome !== "hit") throw new Error("the warm load missed the cache");
  }
  return { coldMs, uncached, warm };
}

async function overStdio(path: string, requests: AclRequest[], home: string) {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", `${ROOT}main.ts`, "mcp", "--debug"],
    env: { CLOUDSIGNAL_HOME: home },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  const simulate = async (request: AclRequest) => {
    const started = performance.now();
    const result = await client.callTool({
      name: "acl_simulate",
      arguments: toolArguments(request, path),
    });
    const elapsed = performance.now() - started;
    if (result.isError) throw new Error(JSON.stringify(result.content));
    return elapsed;
  };
  const coldMs = await simulate(requests[0]);
  const calls: number[] = [];
  const pings: number[] = [];
  for (const request of requests) {
    calls.push(await simulate(request));
    const started = performance.now();
    await client.ping();
    pings.push(performance.now() - started);
  }
  await client.close();
  const server = [...stderr.matchAll(/debug: tools\/call acl_simulate → ok \(([\d.]+) ms\)/g)]
    .map((match) => Number(match[1]));
  if (server.length !== requests.length + 1) {
    throw new Error(`expected ${requests.length + 1} logged calls, got ${server.length}`);
  }
  return { coldMs, calls, pings, serverCold: server[0], server: server.slice(1) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      calls: { type: "string", default: "300" },
      size: { type: "string", default: "10000" },
      json: { type: "boolean" },
    },
  });
  const size = Number(values.size);
  const work = await Deno.makeTempDir({ prefix: "cloudsignal-bench-simulate-" });
  const path = `${work}/policy.json`;
  const text = JSON.stringify(realisticPolicy(size), null, 2);
  await Deno.writeTextFile(path, text);
  // Written a while ago, as a policy file usually is: its stamp is trusted.
  const past = new Date(Date.now() - 60_000);
  await Deno.utime(path, past, past);
  const requests = realisticRequests(size, Number(values.calls));
  const loadBefore = await loadAverage();
  const local = await inProcess(path, requests);
  const stdio = await overStdio(path, requests, `${work}/home`);
  const loadAfter = await loadAverage();
  await Deno.remove(work, { recursive: true });

  const rows = [
    ["in process: uncached load + decision (a cold call's work)", local.uncached],
    ["in process: cached load + decision", local.warm],
    ["in the server: warm acl_simulate (logged by the server)", stdio.server],
    ["over stdio: warm acl_simulate round trip", stdio.calls],
    ["over stdio: ping round trip (baseline)", stdio.pings],
  ].map(([name, times]) => ({
    variant: name as string,
    median_ms: +median(times as number[]).toFixed(3),
    p90_ms: +quantile(times as number[], 0.9).toFixed(3),
  }));
  const summary = {
    deno: Deno.version.deno,
    rules: size,
    policy_bytes: new TextEncoder().encode(text).length,
    calls: requests.length,
    loadBefore,
    loadAfter,
    cold_ms: {
      in_process_cache_miss: +local.coldMs.toFixed(1),
      in_server_first_call: stdio.serverCold,
      stdio_first_call: +stdio.coldMs.toFixed(1),
    },
    warm_round_trip_vs_ping: +(median(stdio.calls) / median(stdio.pings)).toFixed(2),
    rows,
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(
    `\nDeno ${summary.deno}; ${size} rules (${summary.policy_bytes} bytes) by path; ` +
      `${summary.calls} warm calls; load average before ${loadBefore}, after ${loadAfter}`,
  );
  console.log(
    `First call (compiles): ${summary.cold_ms.in_server_first_call} ms in the server, ` +
      `${summary.cold_ms.stdio_first_call} ms over stdio`,
  );
  console.log("| variant | median ms | p90 ms |");
  console.log("|---|---:|---:|");
  for (const row of rows) console.log(`| ${row.variant} | ${row.median_ms} | ${row.p90_ms} |`);
  console.log(`Warm round trip × ping round trip: ${summary.warm_round_trip_vs_ping}`);
}

await main();

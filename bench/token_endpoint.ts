/**
 * Token endpoint throughput for the refresh grant: requests per second through HTTP on this
 * machine, one client refreshing in a loop (each request uses the refresh token the previous
 * one returned, as rotation requires) and 8 sessions refreshing concurrently.
 *
 * Usage: deno run -A bench/token_endpoint.ts [--requests N] [--json]
 */

import { startPlatform } from "../src/platform/mod.ts";
import type { TokenResponse } from "../src/api/openapi_types.ts";

const args = Deno.args;
const at = args.indexOf("--requests");
const REQUESTS = at >= 0 ? Number(args[at + 1]) : 3000;
const PASSWORD = "bench-password";

const dir = await Deno.makeTempDir({ prefix: "cloudsignal-token-bench-" });
const platform = await startPlatform({
  dataDir: dir,
  apiPort: 0,
  mqttPort: 0,
  password: PASSWORD,
  log: () => {},
});
const tokenUrl = `${platform.apiUrl}/oauth/token`;

async function session(): Promise<string> {
  const tokens = await platform.store.createSession(platform.user.id, "cloudsignal-cli", {
    accessTtlSeconds: 3600,
    refreshTtlSeconds: 3600,
  });
  return tokens.refresh_token;
}

async function refresh(token: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: token,
      client_id: "cloudsignal-cli",
    }),
  });
  const body = await response.json() as TokenResponse;
  if (response.status !== 200 || !body.refresh_token) {
    throw new Error(`refresh failed: ${JSON.stringify(body)}`);
  }
  return body.refresh_token;
}

async function chain(token: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) token = await refresh(token);
}

await chain(await session(), 200);
const sequentialStart = performance.now();
await chain(await session(), REQUESTS);
const sequential = REQUESTS / ((performance.now() - sequentialStart) / 1000);

const CONCURRENCY = 8;
const starts = await Promise.all(Array.from({ length: CONCURRENCY }, () => session()));
const concurrentStart = performance.now();
await Promise.all(starts.map((token) => chain(token, Math.ceil(REQUESTS / CONCURRENCY))));
const concurrent = (Math.ceil(REQUESTS / CONCURRENCY) * CONCURRENCY) /
  ((performance.now() - concurrentStart) / 1000);

const requests = platform.stats().tokenRequests.refresh_token;
await platform.close();
await Deno.remove(dir, { recursive: true });

const result = {
  requests: REQUESTS,
  sequential_per_s: Math.round(sequential),
  concurrent_8_per_s: Math.round(concurrent),
  refresh_requests_served: requests,
};
if (args.includes("--json")) console.log(JSON.stringify(result));
else {
  console.log(`Token endpoint, refresh_token grant with rotation, ${REQUESTS} requests:`);
  console.log(
    `  one client in a loop:     ${result.sequential_per_s.toLocaleString("en")} requests/s`,
  );
  console.log(
    `  8 sessions concurrently:  ${result.concurrent_8_per_s.toLocaleString("en")} requests/s`,
  );
}

/**
 * The official MCP conformance suite (`npm:@modelcontextprotocol/conformance`) against
 * `cloudsignal mcp --http`. The suite's client sends no credentials, so it goes through a
 * small proxy that adds the bearer secret and passes every other header (Host and Origin
 * included) through unchanged, so the suite's DNS-rebinding checks reach the real server.
 *
 * The scenarios that apply to this server are asserted; the others exercise the suite's own
 * fixture server (tools such as `test_image_content`, resources under `test://`, prompts,
 * sampling, logging and subscriptions, which this server does not offer) and are listed in
 * docs/mcp.md.
 */

import assert from "node:assert/strict";
import http from "node:http";
import { tempDir } from "../support/cli.ts";
import { serverEnv } from "../mcp/support.ts";
import { startHttpServer } from "../mcp/http_support.ts";

/** The scenarios of conformance 0.1.16 that test what this server offers. */
const APPLICABLE = [
  "server-initialize",
  "ping",
  "tools-list",
  "resources-list",
  "server-sse-multiple-streams",
  "dns-rebinding-protection",
];

/** A proxy to `target` that adds `Authorization: Bearer <secret>` to every request. */
function authorizingProxy(target: URL, secret: string): Promise<{ url: string; close(): void }> {
  const server = http.createServer((request, response) => {
    const upstream = http.request({
      host: target.hostname,
      port: Number(target.port),
      method: request.method,
      path: request.url,
      headers: { ...request.headers, authorization: `Bearer ${secret}` },
    }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    });
    upstream.on("error", () => {
      response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://localhost:${port}/mcp`, close: () => server.close() });
    });
  });
}

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

async function checksOf(dir: string): Promise<Map<string, Check[]>> {
  const byScenario = new Map<string, Check[]>();
  for await (const entry of Deno.readDir(dir)) {
    const scenario = APPLICABLE.find((name) => entry.name.startsWith(`server-${name}-2`));
    if (!scenario || !entry.isDirectory) continue;
    const checks: Check[] = [];
    for await (const file of Deno.readDir(`${dir}/${entry.name}`)) {
      if (!file.name.endsWith(".json")) continue;
      const data = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}/${file.name}`));
      checks.push(...(Array.isArray(data) ? data : data.checks ?? []));
    }
    byScenario.set(scenario, checks);
  }
  return byScenario;
}

Deno.test("the MCP conformance suite's server scenarios that apply pass", async () => {
  const dir = await tempDir("cloudsignal-conformance-");
  const server = await startHttpServer([], serverEnv(`${dir.path}/home`));
  const proxy = await authorizingProxy(new URL(server.url), server.secret);
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-config",
        "--no-lock",
        "npm:@modelcontextprotocol/conformance@0.1.16",
        "server",
        "--url",
        proxy.url,
        "--suite",
        "all",
        "-o",
        `${dir.path}/results`,
      ],
      cwd: dir.path,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    const summary = output.slice(output.indexOf("=== SUMMARY ==="));
    const checks = await checksOf(`${dir.path}/results`);
    for (const scenario of APPLICABLE) {
      const results = checks.get(scenario) ?? [];
      const decided = results.filter((check) => ["SUCCESS", "FAILURE"].includes(check.status));
      assert.ok(decided.length > 0, `${scenario} ran\n${summary}`);
      const failed = decided.filter((check) => check.status === "FAILURE");
      assert.deepEqual(failed, [], `${scenario}\n${summary}`);
      assert.match(summary, new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`));
    }
  } finally {
    proxy.close();
    await server.stop();
    await dir.cleanup();
  }
});

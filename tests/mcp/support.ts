/**
 * MCP test support: the SDK's own `Client` connected to the real CLI (`deno run -A main.ts
 * mcp`) over stdio, with its stderr kept, and helpers to read tool results.
 */

import { Client } from "npm:@modelcontextprotocol/sdk@1.32.2/client";
import { StdioClientTransport as StdioJs } from "npm:@modelcontextprotocol/sdk@1.32.2/client/stdio.js";
import {
  StreamableHTTPClientTransport as HttpJs,
} from "npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp.js";
// The SDK's `exports` map gives types for its module paths without `.js` only.
import type { StdioClientTransport as StdioTypes } from "npm:@modelcontextprotocol/sdk@1.32.2/client/stdio";
import type {
  StreamableHTTPClientTransport as HttpTypes,
} from "npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp";
import type {
  CallToolResult,
  ClientCapabilities,
} from "npm:@modelcontextprotocol/sdk@1.32.2/types";
import { MAIN } from "../support/cli.ts";

export { Client };
export type { CallToolResult };

/** The SDK's stdio client transport. */
export const StdioClientTransport = StdioJs as unknown as typeof StdioTypes;
/** The SDK's Streamable HTTP client transport. */
export const StreamableHTTPClientTransport = HttpJs as unknown as typeof HttpTypes;

/** A connected client and what the server wrote to stderr. */
export interface McpSession {
  client: Client;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Closes the client; the server exits when its stdin ends. */
  close(): Promise<void>;
}

/** Options of `connectStdio`. */
export interface ConnectOptions {
  /** Arguments after `mcp`. */
  args?: string[];
  /** The server's whole environment besides PATH, HOME, DENO_DIR and TMPDIR. */
  env?: Record<string, string>;
  capabilities?: ClientCapabilities;
  cwd?: string;
}

/** The environment of a server process: an isolated home and nothing inherited. */
export function serverEnv(home: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = { NO_COLOR: "1", CLOUDSIGNAL_HOME: home };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Spawns `cloudsignal mcp` and connects the SDK's client to it over stdio. */
export async function connectStdio(options: ConnectOptions = {}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", "--quiet", MAIN, "mcp", ...(options.args ?? [])],
    env: options.env ?? serverEnv("/nonexistent-cloudsignal-home"),
    stderr: "pipe",
    cwd: options.cwd,
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
  const client = new Client(
    { name: "cloudsignal-tests", version: "1.0.0" },
    { capabilities: options.capabilities ?? {} },
  );
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    close: async () => {
      await client.close();
    },
  };
}

/** The structured result of a successful call (fails the test on a tool error). */
// deno-lint-ignore no-explicit-any
export function structured(result: unknown): any {
  const call = result as CallToolResult;
  if (call.isError) throw new Error(`tool error: ${textOf(call)}`);
  if (!call.structuredContent) throw new Error("no structuredContent in the result");
  return call.structuredContent;
}

/** The text blocks of a result, joined. */
export function textOf(result: unknown): string {
  return ((result as CallToolResult).content ?? [])
    .map((block) => block.type === "text" ? block.text : `[${block.type}]`)
    .join("\n");
}

/** The `{$self}` rule the test policies share: an agent owns its card. */
export const AGENT_CARD_RULE = {
  topic: "agents/{$self}/card",
  action: "pub+sub",
  binding: "agent_id",
};

/** The test that goes with it: scout publishes its own card. */
export const SCOUT_CARD_TEST = {
  name: "scout publishes its card",
  client: { username: "scout", claims: { agent_id: "scout" } },
  action: "pub",
  topic: "agents/scout/card",
  expect: "allow",
};

/** A raw `initialize` request, for tests that speak JSON-RPC without the SDK. */
export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw", version: "1" },
  },
};

/** Calls a tool and returns the raw result. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return await client.callTool({ name, arguments: args }) as CallToolResult;
}

/** The names of the read tools, and of the write tools. */
export const READ_TOOLS = [
  "whoami",
  "acl_get_policy",
  "acl_list_revisions",
  "acl_validate",
  "acl_simulate",
  "acl_test",
  "acl_diff",
  "acl_presets",
  "user_list",
  "user_claims_show",
];
/** The write tools (only with --allow-writes). */
export const WRITE_TOOLS = ["acl_update_policy", "user_claims_set", "user_claims_unset"];

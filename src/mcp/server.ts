/**
 * One MCP server (one per stdio connection or HTTP session): the tools (write tools only
 * when writes are allowed) and the resources, over the shared runtime.
 */

import { CfWorkerJsonSchemaValidator, McpServer, type Transport } from "./vendor/mcp_sdk.js";
import { VERSION } from "../version.ts";
import { serveTool, type ToolRuntime } from "./tool.ts";
import { TOOLS } from "./tools/mod.ts";
import { serveResources } from "./resources.ts";
import { guardWrites } from "./write_guard.ts";

/** How the server is configured. */
export interface ServerOptions {
  /** Serve the write tools (acl_update_policy, user_claims_set, user_claims_unset). */
  allowWrites: boolean;
}

/** What the client is told at `initialize`: how to use the tools, and the mode. */
export function instructions(options: ServerOptions): string {
  return [
    "CloudSignal: ACL policies and identity claims of the organization logged in with " +
    "`cloudsignal login` (whoami says which).",
    "Change a policy safely: acl_get_policy (note its revision) → edit → acl_validate and " +
    "acl_test → acl_diff → acl_update_policy with base_revision. acl_simulate explains " +
    "why a client may or may not publish or subscribe.",
    options.allowWrites
      ? "Writes are enabled: acl_update_policy, user_claims_set and user_claims_unset " +
        "change the live organization."
      : "This server is read-only: acl_update_policy, user_claims_set and user_claims_unset " +
        "exist only when it is started with --allow-writes (or " +
        "CLOUDSIGNAL_MCP_ALLOW_WRITES=1).",
  ].join("\n");
}

/** The tools this configuration serves. */
export function servedTools(options: ServerOptions) {
  return TOOLS.filter((tool) => options.allowWrites || !tool.writes);
}

/** A server with its tools and resources, not yet connected. */
export function createServer(runtime: ToolRuntime, options: ServerOptions): McpServer {
  const server = new McpServer(
    { name: "cloudsignal", title: "CloudSignal", version: VERSION },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: instructions(options),
      // The SDK's default validator (ajv) is not bundled: see src/mcp/sdk_shims.ts.
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    },
  );
  for (const tool of servedTools(options)) serveTool(server, tool, runtime);
  serveResources(server, runtime);
  return server;
}

/**
 * A new server connected to `transport`; without writes, the transport refuses calls of
 * the write tools before the server sees them.
 */
export async function connectServer(
  runtime: ToolRuntime,
  options: ServerOptions,
  transport: Transport,
): Promise<McpServer> {
  const server = createServer(runtime, options);
  const writes = new Set(TOOLS.filter((tool) => tool.writes).map((tool) => tool.name));
  await server.connect(options.allowWrites ? transport : guardWrites(transport, writes));
  return server;
}

/**
 * `cloudsignal mcp`: serves the MCP server on stdio until the client closes it, or on
 * Streamable HTTP (127.0.0.1, a bearer secret printed at start) until Ctrl+C. Diagnostics go
 * to stderr; on stdio, stdout carries protocol messages only.
 */

import { debugLog, type OperationContext } from "../core/context.ts";
import { OperationError } from "../core/errors.ts";
import { VERSION } from "../version.ts";
import type { PolicyCache } from "../policy/policy_cache.ts";
import type { ToolRuntime } from "./tool.ts";
import { connectServer, type ServerOptions } from "./server.ts";
import { StdioTransport } from "./stdio.ts";

/** The options of `cloudsignal mcp`. */
export interface McpOptions extends ServerOptions {
  /** Serve Streamable HTTP on 127.0.0.1 instead of stdio. */
  http: boolean;
  /** The HTTP port (0: any free port). */
  port: number;
}

/** The server's context: the command's API URL, home and environment; no terminal. */
export function serverRuntime(command: OperationContext): ToolRuntime {
  const context: OperationContext = {
    // Read when a tool first needs it: the current session's API URL, unless one was given.
    get apiUrl() {
      return command.apiUrl;
    },
    apiUrlExplicit: command.apiUrlExplicit,
    home: command.home,
    debug: command.debug,
    env: (name) => command.env(name),
    log: (line) => command.log(line),
    fetch: command.fetch,
  };
  let cache: Promise<PolicyCache> | null = null;
  return {
    context,
    policies: () =>
      cache ??= import("../policy/policy_cache.ts").then((module) => new module.PolicyCache()),
  };
}

function secret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function serveStdio(runtime: ToolRuntime, options: McpOptions, mode: string) {
  // stdout is the protocol channel: a stray console.log must not corrupt it.
  console.log = console.info = console.debug = console.error;
  const server = await connectServer(runtime, options, new StdioTransport());
  const closed = new Promise<void>((resolve) => server.server.onclose = resolve);
  runtime.context.log(
    `CloudSignal MCP server ${VERSION} on stdio (${mode}); API ${runtime.context.apiUrl}`,
  );
  debugLog(runtime.context, `ready ${Math.round(performance.now())} ms after start`);
  await closed;
}

async function serveOverHttp(runtime: ToolRuntime, options: McpOptions, mode: string) {
  const { serveHttp } = await import("./http.ts");
  const bearer = secret();
  let running;
  try {
    running = serveHttp({
      port: options.port,
      secret: bearer,
      connect: (transport) => connectServer(runtime, options, transport),
      context: runtime.context,
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new OperationError(
        `port ${options.port} of 127.0.0.1 is in use`,
        "Choose another with --port (0 picks a free one).",
      );
    }
    throw error;
  }
  const stop = () => void running.close();
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  // The only place the secret appears: the start banner on stderr.
  const banner = [
    `CloudSignal MCP server ${VERSION} (${mode}) at ${running.url}`,
    `Bearer secret (send "Authorization: Bearer <secret>"): ${bearer}`,
    `API ${runtime.context.apiUrl}. Stop with Ctrl+C.`,
  ];
  await Deno.stderr.write(new TextEncoder().encode(`${banner.join("\n")}\n`));
  await running.finished;
}

/** Runs the MCP server until its client or the user ends it; returns the exit code. */
export async function runMcp(command: OperationContext, options: McpOptions): Promise<number> {
  const runtime = serverRuntime(command);
  const mode = options.allowWrites ? "writes allowed" : "read-only";
  if (options.http) await serveOverHttp(runtime, options, mode);
  else await serveStdio(runtime, options, mode);
  return 0;
}

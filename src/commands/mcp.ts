/**
 * The `mcp` command: flags and help. The MCP server (src/mcp/) is the other front end, so this
 * module does not import it: main.ts hands in the function that starts it.
 */

import { act, contextOf, type Program } from "../cli/program.ts";
import { examplesText } from "../cli/examples.ts";
import type { OperationContext } from "../core/context.ts";
import { UsageError } from "../core/errors.ts";

/** The default port of `--http`. */
export const DEFAULT_MCP_PORT = 8790;

/** The environment variable that allows the write tools, like --allow-writes. */
export const ALLOW_WRITES_ENV = "CLOUDSIGNAL_MCP_ALLOW_WRITES";

/** Flags of `mcp`. */
export interface McpFlags {
  http?: boolean;
  port?: string;
  allowWrites?: boolean;
}

/** Whether writes are allowed: the flag, or the variable set to 1, true or yes. */
export function writesAllowed(flag: boolean | undefined, variable: string | undefined): boolean {
  if (flag) return true;
  const value = (variable ?? "").trim().toLowerCase();
  if (["1", "true", "yes"].includes(value)) return true;
  if (["", "0", "false", "no"].includes(value)) return false;
  throw new UsageError(
    `${ALLOW_WRITES_ENV} must be 1 or 0 (got ${JSON.stringify(variable)})`,
    "Set it to 1 to allow the write tools, or unset it.",
  );
}

/** The port of `--port`: 0 to 65535. */
export function parsePort(text: string | undefined, http: boolean | undefined): number {
  if (text === undefined) return DEFAULT_MCP_PORT;
  if (!http) throw new UsageError("--port applies to --http only");
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(
      `--port must be a port number from 0 to 65535 (got ${JSON.stringify(text)})`,
    );
  }
  return Number(text);
}

/** What `mcp` starts the server with. */
export interface McpOptions {
  http: boolean;
  port: number;
  allowWrites: boolean;
}

/** Starts the MCP server and resolves with the exit code when it stops. */
export type McpServe = (context: OperationContext, options: McpOptions) => Promise<number>;

/** Registers `mcp`; `serve` starts the server (loaded only when `mcp` runs). */
export function registerMcp(program: Program, serve: McpServe): void {
  program
    .command("mcp")
    .description(
      "Serve the Model Context Protocol so an AI agent (Claude Code, VS Code, Cursor…) can " +
        "read, check, simulate and test ACL policies and read claims with your login. " +
        "Read-only unless --allow-writes. stdio by default; --http serves 127.0.0.1 only, " +
        "with a bearer secret printed at start.",
    )
    .option("--http", "serve Streamable HTTP on 127.0.0.1 instead of stdio")
    .option("--port <n>", `the --http port (0 = any free port; default ${DEFAULT_MCP_PORT})`)
    .option(
      "--allow-writes",
      `also serve acl_update_policy, user_claims_set and user_claims_unset (or ${ALLOW_WRITES_ENV}=1)`,
    )
    .addHelpText(
      "after",
      examplesText([
        ["Serve stdio, read-only (what an IDE's MCP client starts)", "cloudsignal mcp"],
        ["Let the agent update policies and claims too", "cloudsignal mcp --allow-writes"],
        ["Serve Streamable HTTP on 127.0.0.1:8790", "cloudsignal mcp --http --port 8790"],
      ]) +
        "\n\nSet up Claude Code: claude mcp add cloudsignal -- cloudsignal mcp\nSee docs/mcp.md.",
    )
    .action(act(async (flags: McpFlags, command) => {
      const context = contextOf(command);
      const options: McpOptions = {
        http: flags.http === true,
        port: parsePort(flags.port, flags.http),
        allowWrites: writesAllowed(flags.allowWrites, context.env(ALLOW_WRITES_ENV)),
      };
      return await serve(context, options);
    }));
}

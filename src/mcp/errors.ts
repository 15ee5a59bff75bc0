/**
 * Failures as MCP reports them: an operation's error becomes a tool error (`isError: true`)
 * whose text is its message and what to do next; anything unexpected is one line (the stack
 * only in the log, with --debug). Resource reads, which have no tool error, get a JSON-RPC
 * error with the same text.
 */

import type { HttpContext } from "../core/context.ts";
import { OperationError } from "../core/errors.ts";
import { type CallToolResult, ErrorCode, McpError } from "./vendor/mcp_sdk.js";

/** CLI commands the operations' hints name, and the tool that does the same for an agent. */
const CLI_TO_TOOL: [RegExp, string][] = [
  [/`?cloudsignal user claims show ([^\s`]+)`?/g, "the user_claims_show tool (user $1)"],
  [/`?cloudsignal user claims unset [^`\n]*`?/g, "the user_claims_unset tool"],
  [/`?cloudsignal user list`?/g, "the user_list tool"],
  [/`?cloudsignal acl revisions`?/g, "the acl_list_revisions tool"],
];

/** A hint written for a person at a terminal, pointing an agent at its tools instead. */
export function forAgents(text: string): string {
  return CLI_TO_TOOL.reduce((hint, [command, tool]) => hint.replace(command, tool), text);
}

/** The text of a failure: the message, then the hint. */
export function failureText(error: unknown, context: HttpContext): string {
  if (error instanceof OperationError) {
    return forAgents(error.hint ? `${error.message}\n${error.hint}` : error.message);
  }
  if (error instanceof McpError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  if (context.debug && error instanceof Error && error.stack) context.log(error.stack);
  return `unexpected failure: ${message}` +
    (context.debug ? "" : " (start the server with --debug for details)");
}

/** A tool error result for `error`. */
export function toolError(error: unknown, context: HttpContext): CallToolResult {
  return { content: [{ type: "text", text: failureText(error, context) }], isError: true };
}

/** The JSON-RPC error a failed resource read answers with. */
export function resourceError(error: unknown, context: HttpContext): McpError {
  if (error instanceof McpError) return error;
  const code = error instanceof OperationError
    ? error.code === "not_found"
      ? -32002 // MCP: resource not found
      : error.code === "invalid_argument"
      ? ErrorCode.InvalidParams
      : ErrorCode.InternalError
    : ErrorCode.InternalError;
  const data = error instanceof OperationError ? { code: error.code } : undefined;
  return new McpError(code, failureText(error, context), data);
}

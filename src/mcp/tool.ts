/**
 * What a tool is (name, schemas, annotations, and the function that calls an operation) and
 * how it is served: each call gets its own operation context (the request's cancellation,
 * progress notifications when the client asked for them), its result becomes text plus
 * `structuredContent`, and a failure becomes a tool error (`isError: true`), never a crash.
 */

import type { OperationContext } from "../core/context.ts";
import type { PolicyCache } from "../policy/policy_cache.ts";
import type {
  CallToolResult,
  McpServer,
  RequestHandlerExtra,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from "./vendor/mcp_sdk.js";
import type * as z from "./zod.ts";
import { toolError } from "./errors.ts";

/** The request a handler serves, as the SDK describes it. */
export type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A person's answer to a confirmation. */
export type ConfirmAnswer = "accept" | "decline" | "cancel";

/** What a tool's `run` gets besides its arguments. */
export interface ToolCall {
  /** This call's context: cancelled with the request, reporting progress when asked. */
  context: OperationContext;
  /** Compiled policies by content hash, shared by every call of the server. */
  policies(): Promise<PolicyCache>;
  /** Asks the person to confirm; null when the client cannot ask (no elicitation). */
  confirm: ((message: string) => Promise<ConfirmAnswer>) | null;
}

/** A tool's success: its structured result and a summary for people and models. */
export interface ToolOutput<O> {
  structured: O;
  summary: string;
}

/** A tool served by the MCP server. */
export interface ToolDefinition<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  /** When an agent should use it, and what it returns. */
  description: string;
  input: I;
  output: O;
  annotations: Required<
    Pick<ToolAnnotations, "readOnlyHint" | "destructiveHint" | "idempotentHint" | "openWorldHint">
  >;
  /** Changes the organization's data: served only when writes are allowed. */
  writes: boolean;
  run(call: ToolCall, args: z.infer<I>): Promise<ToolOutput<z.infer<O>>>;
}

/** Any tool, whatever its schemas. */
// deno-lint-ignore no-explicit-any
export type AnyTool = ToolDefinition<any, any>;

/** Declares a tool (types its `run` from its schemas). */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  definition: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return definition;
}

/** What every call of every tool shares. */
export interface ToolRuntime {
  /** The server's context: API URL, home, environment, log. */
  context: OperationContext;
  /** The policy cache, created (and its modules loaded) by the first call that needs it. */
  policies(): Promise<PolicyCache>;
}

/** Read-only, on this machine only (the policy or file given). */
export const LOCAL_READ = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

/** Read-only, asking the CloudSignal API (state that others change). */
export const API_READ = { ...LOCAL_READ, openWorldHint: true } as const;

/** The context of one call: the server's, with the request's cancellation and progress. */
export function callContext(base: OperationContext, extra: RequestExtra): OperationContext {
  const token = extra._meta?.progressToken;
  let progress = 0;
  return {
    ...base,
    signal: extra.signal,
    progress: token === undefined ? undefined : async (label, work) => {
      await extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: ++progress, message: `${label}…` },
      }).catch(() => {});
      return await work();
    },
  };
}

/** Asks through elicitation when the client declared it (a form without fields: yes or no). */
function confirmer(server: McpServer, extra: RequestExtra): ToolCall["confirm"] {
  if (!server.server.getClientCapabilities()?.elicitation?.form) return null;
  return async (message) => {
    const answer = await server.server.elicitInput(
      { mode: "form", message, requestedSchema: { type: "object", properties: {} } },
      // A person reads the summary: give them minutes, not the 60 s of a request.
      { relatedRequestId: extra.requestId, signal: extra.signal, timeout: 10 * 60_000 },
    );
    return answer.action;
  };
}

/** Registers `tool` on `server`. */
export function serveTool(server: McpServer, tool: AnyTool, runtime: ToolRuntime): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      annotations: { title: tool.title, ...tool.annotations },
    },
    async (args: unknown, extra: RequestExtra): Promise<CallToolResult> => {
      const started = performance.now();
      const context = callContext(runtime.context, extra);
      let result: CallToolResult;
      try {
        const output = await tool.run(
          { context, policies: runtime.policies, confirm: confirmer(server, extra) },
          args,
        );
        result = {
          content: [
            { type: "text", text: output.summary },
            { type: "text", text: JSON.stringify(output.structured, null, 2) },
          ],
          structuredContent: output.structured,
        };
      } catch (error) {
        result = toolError(error, runtime.context);
      }
      if (runtime.context.debug) {
        const ms = (performance.now() - started).toFixed(2);
        runtime.context.log(
          `debug: tools/call ${tool.name} → ${result.isError ? "error" : "ok"} (${ms} ms)`,
        );
      }
      return result;
    },
  );
}

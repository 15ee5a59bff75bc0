/**
 * Read-only mode at the transport: a `tools/call` naming a write tool is answered with a
 * tool error before the MCP server sees it, on every transport, so a server started without
 * --allow-writes can never run one (the tools are not registered either).
 */

import type { JSONRPCMessage, Transport, TransportSendOptions } from "./vendor/mcp_sdk.js";

/** The refusal of a write tool in read-only mode. */
export function readOnlyRefusal(tool: string): string {
  return `${tool} changes the organization, and this MCP server is read-only: nothing was ` +
    "done. Ask the person to start it with --allow-writes (or CLOUDSIGNAL_MCP_ALLOW_WRITES=1) " +
    "if they want you to make changes.";
}

/** `transport`, answering calls of `writeTools` itself with a tool error. */
export function guardWrites(transport: Transport, writeTools: Set<string>): Transport {
  const guarded: Transport = {
    start: () => transport.start(),
    close: () => transport.close(),
    send: (message: JSONRPCMessage, options?: TransportSendOptions) =>
      transport.send(message, options),
  };
  Object.defineProperty(guarded, "sessionId", { get: () => transport.sessionId });
  transport.onclose = () => guarded.onclose?.();
  transport.onerror = (error) => guarded.onerror?.(error);
  transport.onmessage = (message, extra) => {
    const call = message as { id?: string | number; method?: string; params?: { name?: unknown } };
    const name = call.params?.name;
    if (
      call.method === "tools/call" && call.id !== undefined && typeof name === "string" &&
      writeTools.has(name)
    ) {
      transport.send(
        {
          jsonrpc: "2.0",
          id: call.id,
          result: { content: [{ type: "text", text: readOnlyRefusal(name) }], isError: true },
        },
        { relatedRequestId: call.id },
      ).catch((error) => guarded.onerror?.(error));
      return;
    }
    guarded.onmessage?.(message, extra);
  };
  if (transport.setProtocolVersion) {
    guarded.setProtocolVersion = (version) => transport.setProtocolVersion!(version);
  }
  return guarded;
}

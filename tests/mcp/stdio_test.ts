import assert from "node:assert/strict";
import { StdioTransport } from "../../src/mcp/stdio.ts";
import type { JSONRPCMessage } from "../../src/mcp/vendor/mcp_sdk.js";

/** A transport over an in-memory input; what it writes is kept. */
function transportOf(maxBytes?: number) {
  let push!: (chunk: Uint8Array | null) => void;
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      push = (chunk) => chunk === null ? controller.close() : controller.enqueue(chunk);
    },
  });
  const written: string[] = [];
  const transport = new StdioTransport(input, {
    write: (bytes) => {
      written.push(new TextDecoder().decode(bytes));
      return Promise.resolve(bytes.length);
    },
  }, maxBytes);
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => void received.push(message);
  const closed = new Promise<void>((resolve) => transport.onclose = resolve);
  const text = (value: string) => push(new TextEncoder().encode(value));
  return { transport, text, end: () => push(null), written, received, closed };
}

const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" });

Deno.test("messages split across chunks, several per chunk and CRLF lines are all read", async () => {
  const t = transportOf();
  await t.transport.start();
  const line = ping(1);
  t.text(line.slice(0, 10));
  t.text(`${line.slice(10)}\r\n${ping(2)}\n\n${ping(3)}`);
  t.text("\n");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(t.received.map((message) => (message as { id: number }).id), [1, 2, 3]);
  // Answer them so the transport can close at the end of the input.
  for (const id of [1, 2, 3]) await t.transport.send({ jsonrpc: "2.0", id, result: {} });
  t.end();
  await t.closed;
});

Deno.test("a line that is not JSON, or not JSON-RPC, is answered with an error", async () => {
  const t = transportOf();
  await t.transport.start();
  t.text("not json\n");
  t.text(`${JSON.stringify({ id: 7, hello: true })}\n`);
  t.end();
  await t.closed;
  const answers = t.written.map((line) => JSON.parse(line));
  assert.equal(answers[0].id, null);
  assert.equal(answers[0].error.code, -32700);
  assert.equal(answers[1].id, 7);
  assert.equal(answers[1].error.code, -32600);
  assert.deepEqual(t.received, []);
});

Deno.test("a message over the size limit is refused with the limit, and the next one is read", async () => {
  const t = transportOf(1024 * 1024);
  await t.transport.start();
  const big = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "x",
    params: { a: "y".repeat(1_100_000) },
  });
  for (let at = 0; at < big.length; at += 65536) t.text(big.slice(at, at + 65536));
  t.text(`\n${ping(2)}\n`);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(t.written.length, 1);
  const refusal = JSON.parse(t.written[0]);
  assert.equal(refusal.error.code, -32600);
  assert.match(refusal.error.message, /over the 1 MiB limit/);
  assert.deepEqual(t.received.map((message) => (message as { id: number }).id), [2]);
  await t.transport.send({ jsonrpc: "2.0", id: 2, result: {} });
  t.end();
  await t.closed;
});

Deno.test("at the end of the input, requests already read are answered before closing", async () => {
  const t = transportOf();
  await t.transport.start();
  t.text(`${ping(1)}\n${ping(2)}\n`);
  t.text(
    `${
      JSON.stringify({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: 2 },
      })
    }\n`,
  );
  t.end();
  let closed = false;
  t.closed.then(() => closed = true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(closed, false, "request 1 is still unanswered");
  await t.transport.send({ jsonrpc: "2.0", id: 1, result: {} });
  await t.closed;
  assert.equal(t.written.length, 1);
});

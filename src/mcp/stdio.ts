/**
 * The stdio transport on Deno's own streams: one JSON-RPC message per line on stdin and
 * stdout, nothing else on stdout. (The SDK's `StdioServerTransport` uses Node's `process`,
 * whose polyfill costs ~25 ms at start.) A line that is not JSON, or over the size limit,
 * is answered with a JSON-RPC error instead of being dropped silently. When stdin ends, the
 * requests already read are answered before the transport closes.
 */

import {
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type Transport,
} from "./vendor/mcp_sdk.js";

/** The largest message read: a policy file at its 32 MiB limit, escaped as JSON text. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Where the transport writes: stdout by default. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

function joined(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** A server transport over a byte stream pair (stdin and stdout unless given). */
export class StdioTransport implements Transport {
  /** Set by the SDK. */
  onclose?: () => void;
  /** Set by the SDK. */
  onerror?: (error: Error) => void;
  /** Set by the SDK. */
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #input: ReadableStream<Uint8Array>;
  readonly #output: ByteSink;
  readonly #maxBytes: number;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  /** Requests read and not answered yet (nor cancelled). */
  readonly #pending = new Set<string | number>();
  #settled: (() => void) | null = null;

  constructor(
    input: ReadableStream<Uint8Array> = Deno.stdin.readable,
    output: ByteSink = Deno.stdout,
    maxBytes = MAX_MESSAGE_BYTES,
  ) {
    this.#input = input;
    this.#output = output;
    this.#maxBytes = maxBytes;
  }

  /** Starts reading messages. */
  start(): Promise<void> {
    this.#reader = this.#input.getReader();
    this.#read()
      .catch((error) => this.onerror?.(error))
      .then(() => this.#answered())
      .finally(() => this.close());
    return Promise.resolve();
  }

  /** Resolves once every request read so far is answered. */
  #answered(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settled = resolve);
  }

  #track(message: JSONRPCMessage, incoming: boolean): void {
    const fields = message as { id?: string | number; method?: string; params?: unknown };
    if (incoming && fields.method === "notifications/cancelled") {
      this.#pending.delete((fields.params as { requestId?: string | number })?.requestId!);
    } else if (incoming && fields.method !== undefined && fields.id !== undefined) {
      this.#pending.add(fields.id);
    } else if (!incoming && fields.method === undefined && fields.id !== undefined) {
      this.#pending.delete(fields.id);
    }
    if (this.#pending.size === 0 && this.#settled) {
      this.#settled();
      this.#settled = null;
    }
  }

  async #read(): Promise<void> {
    let chunks: Uint8Array[] = [];
    let size = 0;
    let skipping = false;
    for (;;) {
      const { value: chunk, done } = await this.#reader!.read();
      if (done || this.#closed) return;
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(10, start);
        const piece = chunk.subarray(start, newline < 0 ? chunk.length : newline);
        if (!skipping && size + piece.length > this.#maxBytes) {
          skipping = true;
          chunks = [];
          size = 0;
          this.#refuse(
            ErrorCode.InvalidRequest,
            `message over the ${this.#maxBytes / 1024 / 1024} MiB limit; it was not read`,
          );
        }
        if (!skipping) {
          chunks.push(piece);
          size += piece.length;
        }
        if (newline < 0) break;
        if (!skipping && size > 0) this.#receive(joined(chunks, size));
        chunks = [];
        size = 0;
        skipping = false;
        start = newline + 1;
      }
    }
  }

  #receive(bytes: Uint8Array): void {
    const line = new TextDecoder().decode(bytes).replace(/\r$/, "");
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      this.#refuse(ErrorCode.ParseError, `Parse error: ${(error as Error).message}`);
      return;
    }
    const message = JSONRPCMessageSchema.safeParse(parsed);
    if (!message.success) {
      const id = (parsed as { id?: unknown })?.id;
      this.#refuse(
        ErrorCode.InvalidRequest,
        "Invalid Request: not a JSON-RPC 2.0 message",
        typeof id === "string" || typeof id === "number" ? id : null,
      );
      return;
    }
    this.#track(message.data, true);
    this.onmessage?.(message.data);
  }

  #refuse(code: number, message: string, id: string | number | null = null): void {
    this.onerror?.(new Error(message));
    // JSON-RPC answers a message whose id cannot be read with id null.
    this.send({ jsonrpc: "2.0", id, error: { code, message } } as unknown as JSONRPCMessage)
      .catch(() => {});
  }

  /** Writes one message (writes never interleave). */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the stdio transport is closed"));
    this.#track(message, false);
    const bytes = new TextEncoder().encode(`${JSON.stringify(message)}\n`);
    const write = this.#writing.then(async () => {
      let written = 0;
      while (written < bytes.length) {
        written += await this.#output.write(bytes.subarray(written));
      }
    });
    this.#writing = write.catch(() => {});
    return write;
  }

  /** Stops reading; `onclose` runs once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
    await this.#writing;
    this.onclose?.();
  }
}

/**
 * The Streamable HTTP transport, served by `Deno.serve` on 127.0.0.1 only. Every request must
 * name this machine in Host and (when it has one) Origin, so a web page cannot reach the
 * server through DNS rebinding, and must carry the bearer secret printed at start. Each
 * session (an `initialize` without a session id) gets its own MCP server and transport; a
 * session unused for `idleMs` is closed, and past `maxSessions` the least recently used one
 * is, so clients that never end their sessions cannot make the server grow without bound (a
 * client of a closed session gets 404 and, as MCP says, initializes again).
 */

import {
  type McpServer,
  type Transport,
  WebStandardStreamableHTTPServerTransport,
} from "./vendor/mcp_sdk.js";
import { debugLog, type HttpContext } from "../core/context.ts";
import { MAX_MESSAGE_BYTES } from "./stdio.ts";

/** The path the MCP endpoint is served at. */
export const MCP_PATH = "/mcp";

/** Sessions kept open at most; a new one closes the least recently used. */
export const MAX_SESSIONS = 32;

/** A session unused this long is closed (30 minutes). */
export const SESSION_IDLE_MS = 30 * 60_000;

/** The names of this machine a Host or Origin may use. */
const LOCAL_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Options of `serveHttp`. */
export interface HttpServeOptions {
  /** The port (0: any free port). */
  port: number;
  /** The bearer secret every request must carry. */
  secret: string;
  /** Connects a new server to a new session's transport. */
  connect(transport: Transport): Promise<McpServer>;
  /** The log (requests are logged with --debug: method, path, status; never headers). */
  context: HttpContext;
  /** Sessions kept at most (default `MAX_SESSIONS`). */
  maxSessions?: number;
  /** Milliseconds after which an unused session is closed (default `SESSION_IDLE_MS`). */
  idleMs?: number;
}

/** A running HTTP endpoint. */
export interface RunningHttp {
  /** The endpoint's URL, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** Stops listening and closes every session. */
  close(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** A refusal in JSON-RPC's error shape, which MCP clients show. */
function refusal(status: number, message: string, headers: HeadersInit = {}): Response {
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: -32000, message } },
    { status, headers },
  );
}

/** True when `authority` (a Host header, `name[:port]`) names this machine. */
export function isLocalAuthority(authority: string): boolean {
  // Only a name and a port: no user info, path or anything a URL parser would reinterpret.
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(authority)) return false;
  try {
    return LOCAL_NAMES.has(new URL(`http://${authority}`).hostname);
  } catch {
    return false;
  }
}

/** True when an Origin header is a page served by this machine. */
export function isLocalOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") &&
      LOCAL_NAMES.has(url.hostname);
  } catch {
    return false;
  }
}

/** Compares secrets in a time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= (a[i] ?? 0) ^ b[i];
  return difference === 0;
}

/** Why a request is refused (Host, Origin, path, secret), or null to serve it. */
export function refuse(request: Request, secret: string): Response | null {
  const host = request.headers.get("host");
  if (host === null || !isLocalAuthority(host)) {
    return refusal(403, `Forbidden: the Host header must name this machine (got ${host})`);
  }
  const origin = request.headers.get("origin");
  if (origin !== null && !isLocalOrigin(origin)) {
    return refusal(403, `Forbidden: requests from ${origin} are not allowed`);
  }
  if (pathOf(request) !== MCP_PATH) {
    return refusal(404, `Not found: the MCP endpoint is ${MCP_PATH}`);
  }
  const authorization = request.headers.get("authorization") ?? "";
  const match = authorization.match(/^Bearer (.+)$/i);
  if (match === null || !sameSecret(match[1], secret)) {
    return refusal(
      401,
      "Unauthorized: send the bearer secret `cloudsignal mcp --http` printed at start " +
        "(Authorization: Bearer <secret>)",
      { "www-authenticate": 'Bearer realm="cloudsignal-mcp"' },
    );
  }
  return null;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  /** When a request last named it (`performance.now()`). */
  used: number;
}

/** The path of a request, or "?" when its URL cannot be read (a malformed Host). */
function pathOf(request: Request): string {
  try {
    return new URL(request.url).pathname;
  } catch {
    return "?";
  }
}

/** Serves MCP over Streamable HTTP on 127.0.0.1 until `close` (throws when the port is taken). */
export function serveHttp(options: HttpServeOptions): RunningHttp {
  const { context } = options;
  const maxSessions = Math.max(1, options.maxSessions ?? MAX_SESSIONS);
  const idleMs = options.idleMs ?? SESSION_IDLE_MS;
  // Map order is use order: a session is moved to the end each time a request names it.
  const sessions = new Map<string, Session>();
  const stop = new AbortController();

  const closeSession = (id: string, why: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    debugLog(context, `closing MCP session ${id.slice(0, 8)}…: ${why}`);
    void session.server.close().catch(() => {});
  };
  const closeIdle = () => {
    const now = performance.now();
    for (const [id, session] of sessions) {
      if (now - session.used >= idleMs) closeSession(id, "unused for too long");
    }
  };
  const sweep = setInterval(closeIdle, Math.min(idleMs, 60_000));
  Deno.unrefTimer(sweep);

  const openSession = async (): Promise<Session> => {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        while (sessions.size >= maxSessions) {
          closeSession(sessions.keys().next().value!, `over ${maxSessions} sessions`);
        }
        sessions.set(id, session);
      },
      onsessionclosed: (id) => void sessions.delete(id),
      maxRequestBodySize: MAX_MESSAGE_BYTES,
    });
    const session: Session = {
      transport,
      server: await options.connect(transport),
      used: performance.now(),
    };
    return session;
  };

  const handle = async (request: Request): Promise<Response> => {
    const refused = refuse(request, options.secret);
    if (refused) return refused;
    const id = request.headers.get("mcp-session-id");
    if (id !== null) {
      closeIdle();
      const session = sessions.get(id);
      if (!session) return refusal(404, "Not found: no such session (initialize again)");
      session.used = performance.now();
      sessions.delete(id);
      sessions.set(id, session);
      return await session.transport.handleRequest(request);
    }
    if (request.method !== "POST") {
      return refusal(400, "Bad request: start a session with an initialize request (POST)");
    }
    const session = await openSession();
    const response = await session.transport.handleRequest(request);
    // Not an initialize request: no session began, so nothing keeps this one.
    if (session.transport.sessionId === undefined) await session.server.close();
    return response;
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port,
    signal: stop.signal,
    onListen: () => {},
    onError: (error) => {
      context.log(`error: ${error instanceof Error ? error.message : String(error)}`);
      return refusal(500, "Internal error");
    },
  }, async (request) => {
    const started = performance.now();
    const response = await handle(request);
    if (context.debug) {
      const ms = Math.round(performance.now() - started);
      context.log(
        `debug: HTTP ${request.method} ${pathOf(request)} → ${response.status} (${ms} ms)`,
      );
    }
    return response;
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}${MCP_PATH}`,
    finished: server.finished,
    close: async () => {
      clearInterval(sweep);
      stop.abort();
      await Promise.all(
        [...sessions.values()].map((session) => session.server.close().catch(() => {})),
      );
      await server.finished;
    },
  };
}

/**
 * The loopback redirect receiver of `cloudsignal login` (RFC 8252 §7.3): a `Deno.serve`
 * bound to 127.0.0.1 only, on an OS-chosen port unless one is pinned, answering
 * `GET /callback`. It accepts exactly one callback carrying the right `state` (compared in
 * constant time); callbacks with a wrong or missing state get an error page and are
 * ignored, so a stray or forged request cannot end the login. After the accepted callback
 * the browser gets the final page and the server shuts down.
 */

import { OperationError } from "../core/errors.ts";
import { constantTimeEqual } from "./pkce.ts";
import {
  alreadyUsedPage,
  notFoundPage,
  PAGE_HEADERS,
  type PageContent,
  renderPage,
  wrongStatePage,
} from "./pages.ts";

/** What the accepted callback carried. */
export type CallbackResult =
  | { kind: "code"; code: string; iss: string | null }
  | { kind: "error"; error: string; description: string | null; iss: string | null };

/** Options of `startCallbackServer`. */
export interface CallbackServerOptions {
  /** Port on 127.0.0.1; 0 lets the system choose. */
  port: number;
  /** The `state` sent in the authorization request. */
  state: string;
  /** Told about each refused callback (wrong state, wrong host), for a warning. */
  onRefused?: (reason: string) => void;
}

/** A running callback server. */
export interface CallbackServer {
  /** `http://127.0.0.1:<port>/callback`. */
  redirectUri: string;
  port: number;
  /** Resolves with the first callback that carries the right state. */
  callback: Promise<CallbackResult>;
  /** Shows `page` to the browser of the accepted callback, then shuts the server down. */
  finish(page: PageContent): Promise<void>;
}

/** The loopback address the server binds to. */
export const CALLBACK_HOST = "127.0.0.1";

/** The redirect path. */
export const CALLBACK_PATH = "/callback";

function respond(page: PageContent, extra: Record<string, string> = {}): Response {
  return new Response(renderPage(page), {
    status: page.status,
    headers: { ...PAGE_HEADERS, ...extra },
  });
}

/**
 * Starts the server (listening when this returns). `OperationError` when a pinned port is taken
 * or cannot be used.
 */
export function startCallbackServer(options: CallbackServerOptions): CallbackServer {
  let accept!: (result: CallbackResult) => void;
  const callback = new Promise<CallbackResult>((resolve) => (accept = resolve));
  let showPage!: (page: PageContent) => void;
  const finalPage = new Promise<PageContent>((resolve) => (showPage = resolve));
  let accepted = false;
  let port = options.port;

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const host = request.headers.get("host");
    if (host !== `${CALLBACK_HOST}:${port}`) {
      // DNS rebinding: a page on another origin resolving to 127.0.0.1 sends its own Host.
      options.onRefused?.("a request for another host name");
      return respond({ ...notFoundPage(), status: 421 });
    }
    if (url.pathname !== CALLBACK_PATH) return respond(notFoundPage());
    if (request.method !== "GET") {
      return respond({ ...notFoundPage(), status: 405, title: "Method not allowed" }, {
        allow: "GET",
      });
    }
    if (accepted) return respond(alreadyUsedPage());
    const state = url.searchParams.get("state") ?? "";
    if (!constantTimeEqual(state, options.state)) {
      options.onRefused?.(
        state === "" ? "a callback without state" : "a callback with a state that does not match",
      );
      return respond(wrongStatePage());
    }
    accepted = true;
    const iss = url.searchParams.get("iss");
    const error = url.searchParams.get("error");
    if (error !== null) {
      accept({ kind: "error", error, description: url.searchParams.get("error_description"), iss });
    } else {
      accept({ kind: "code", code: url.searchParams.get("code") ?? "", iss });
    }
    return respond(await finalPage);
  };

  let server: Deno.HttpServer;
  try {
    server = Deno.serve({ hostname: CALLBACK_HOST, port, onListen: () => {} }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new OperationError(
        `port ${port} on ${CALLBACK_HOST} is already in use, so the login callback cannot listen there`,
        "Choose another one with --port, or leave --port out to let the system pick a free port.",
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new OperationError(
        `not allowed to listen on ${CALLBACK_HOST}:${port} for the login callback`,
        "Choose a port above 1023 with --port, or leave --port out.",
      );
    }
    throw error;
  }
  port = (server.addr as Deno.NetAddr).port;
  let finished = false;
  return {
    redirectUri: `http://${CALLBACK_HOST}:${port}${CALLBACK_PATH}`,
    port,
    callback,
    finish: async (page: PageContent) => {
      if (finished) return;
      finished = true;
      accepted = true;
      showPage(page);
      // Lets the accepted callback's response go out, then refuses new connections.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown(),
        new Promise((resolve) => (timer = setTimeout(resolve, 3_000))),
      ]);
      clearTimeout(timer);
    },
  };
}

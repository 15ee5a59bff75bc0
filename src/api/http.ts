/**
 * The one `fetch` wrapper of the CLI. Every HTTP request (OAuth discovery, token, revoke,
 * the API) goes through `httpRequest`, which adds:
 *
 * - a timeout covering the whole exchange, headers and body (`AbortSignal.timeout`);
 * - `--debug` logging to stderr: one line per request with method, URL, status and time,
 *   credentials redacted (the Authorization header and bodies are never printed; query
 *   parameters such as `code=` or `access_token=` are replaced by `[redacted]`);
 * - network failures and time-outs mapped to `UnavailableError` (exit 5) with a message
 *   naming the host and never the full URL;
 * - no redirects unless asked, so a bearer token or a token request body never follows a
 *   `Location` to another origin;
 * - the secrets a request carries never come back through its response's text: a server (or
 *   a proxy) that echoes the bearer token in any answer, or a refresh token, code or verifier
 *   of a form in an error, has them replaced by `[redacted]` before anything reads the body
 *   (a successful token response keeps its tokens: a refresh may return the same one).
 *
 * The body is always read completely, so a response is a plain value (`HttpResponse`).
 * Extend it here (retries, error mapping) rather than calling `fetch` elsewhere.
 */

import { UnavailableError } from "../core/errors.ts";
import type { HttpContext } from "../core/context.ts";
import { VERSION } from "../version.ts";

export type { HttpContext };

/** One request. */
export interface HttpRequest {
  /** HTTP method (default GET). */
  method?: string;
  url: string | URL;
  headers?: Record<string, string>;
  /** A form (sent as application/x-www-form-urlencoded) or a raw string body. */
  body?: URLSearchParams | string;
  /** A value sent as JSON (sets Content-Type); do not combine with `body`. */
  json?: unknown;
  /** Time limit for the whole exchange in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Follow redirects (default false: a 3xx is returned as is). Only for unauthenticated GETs. */
  followRedirects?: boolean;
  /** Cancels the request (the caller's own signal, e.g. Ctrl+C). */
  signal?: AbortSignal;
}

/** A response whose body has been read. */
export interface HttpResponse {
  status: number;
  /** True for 2xx. */
  ok: boolean;
  headers: Headers;
  /** The final URL (after redirects, when followed). */
  url: string;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON; `UnavailableError` naming the host when it is not JSON. */
  json(): unknown;
}

/** Default time limit of a request. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Query parameters whose values are never printed. */
const SECRET_PARAMETERS = new Set([
  "access_token",
  "refresh_token",
  "id_token",
  "token",
  "code",
  "code_verifier",
  "state",
  "password",
  "client_secret",
  "assertion",
  "subject_token",
  "api_key",
  "apikey",
  "key",
  "secret",
]);

/** Printed instead of a secret. */
export const REDACTED = "[redacted]";

/**
 * The URL as safe to print: user and password removed, the values of secret query
 * parameters (`code`, `state`, `access_token`, `refresh_token`, `password`, …) replaced by
 * `[redacted]`, and the fragment dropped. Text that is not a URL is returned with the same
 * parameters redacted.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return redactQuery(String(url));
  }
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  return parsed.search ? `${base}${redactQuery(parsed.search)}` : base;
}

function redactQuery(text: string): string {
  return text.replace(
    /([?&;]|^)([^=&;?#\s]+)=([^&;#\s]*)/g,
    (whole, separator: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch { /* keep it as is */ }
      return SECRET_PARAMETERS.has(decoded.toLowerCase())
        ? `${separator}${name}=${REDACTED}`
        : whole;
    },
  );
}

/** Replaces every URL in a free text (an error message) with its redacted form. */
export function redactText(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s)"'<>]+/g, (url) => redactUrl(url));
}

/** Shorter values are not looked for in answers (they would match ordinary text). */
const MIN_REDACTED_LENGTH = 8;

/** The ways an echoed value can be written: raw, in a JSON string, form- and URL-encoded. */
function spellings(secret: string): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
  ];
}

/** What a request carries that its answer must not show: `always`, and `inErrors` too. */
interface SentSecrets {
  always: string[];
  inErrors: string[];
}

function secretsOf(headers: Headers, form: URLSearchParams | undefined): SentSecrets {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get("authorization") ?? "")?.[1].trim();
  const fields = [...(form ?? [])]
    .filter(([name]) => SECRET_PARAMETERS.has(name.toLowerCase()))
    .map(([, value]) => value);
  return { always: bearer ? [bearer] : [], inErrors: fields };
}

/** `text` with every spelling of each secret (of a useful length) replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: string[]): string {
  const variants = [
    ...new Set(
      secrets.filter((secret) => secret.length >= MIN_REDACTED_LENGTH).flatMap(spellings),
    ),
  ].sort((a, b) => b.length - a.length);
  let redacted = text;
  for (const variant of variants) {
    if (redacted.includes(variant)) redacted = redacted.split(variant).join(REDACTED);
  }
  return redacted;
}

/** `host:port` of a URL, for messages. */
export function hostOf(url: string | URL): string {
  try {
    return new URL(String(url)).host;
  } catch {
    return String(url);
  }
}

function reasonOf(error: unknown): string {
  const parts: string[] = [];
  for (let at: unknown = error; at !== undefined && parts.length < 4;) {
    parts.push(at instanceof Error ? at.message : String(at));
    at = at instanceof Error ? at.cause : undefined;
  }
  const message = parts.reverse().find((part) => part !== "fetch failed") ?? parts[0];
  if (/connection refused/i.test(message)) return "connection refused";
  if (/dns error|failed to lookup|name or service not known|no address/i.test(message)) {
    return "host name not found";
  }
  if (/certificate|tls|ssl/i.test(message)) return "TLS error (check the certificate)";
  if (/connection reset/i.test(message)) return "connection reset";
  if (/network is unreachable|no route to host/i.test(message)) return "network unreachable";
  const tail = message.split(": ").at(-1) ?? message;
  return redactText(tail).slice(0, 200);
}

/** The User-Agent of every request. */
export const USER_AGENT = `cloudsignal-cli/${VERSION} deno/${Deno.version.deno}`;

/**
 * Sends a request and reads the whole response. Resolves for every HTTP status (callers
 * decide what a 4xx/5xx means); rejects with `UnavailableError` when the server cannot be
 * reached, the connection fails, or the time limit passes. A caller's `signal` aborting
 * rejects with its reason unchanged.
 */
export async function httpRequest(
  context: HttpContext,
  request: HttpRequest,
): Promise<HttpResponse> {
  const method = (request.method ?? "GET").toUpperCase();
  const url = String(request.url);
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers = new Headers({ "user-agent": USER_AGENT, accept: "application/json" });
  for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, value);
  let body: string | undefined;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers.set("content-type", "application/json");
  } else if (request.body instanceof URLSearchParams) {
    body = request.body.toString();
    headers.set("content-type", "application/x-www-form-urlencoded");
  } else if (request.body !== undefined) {
    body = request.body;
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  const cancel = request.signal ?? context.signal;
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
  const started = performance.now();
  const log = (outcome: string) => {
    if (!context.debug) return;
    const ms = Math.round(performance.now() - started);
    context.log(`debug: ${method} ${redactUrl(url)} → ${outcome} (${ms} ms)`);
  };
  try {
    const response = await (context.fetch ?? fetch)(url, {
      method,
      headers,
      body,
      signal,
      redirect: request.followRedirects ? "follow" : "manual",
    });
    const ok = response.status >= 200 && response.status < 300;
    const sent = secretsOf(
      headers,
      request.body instanceof URLSearchParams ? request.body : undefined,
    );
    const text = redactSecrets(
      await response.text(),
      ok ? sent.always : [...sent.always, ...sent.inErrors],
    );
    log(String(response.status));
    const finalUrl = response.url || url;
    return {
      status: response.status,
      ok,
      headers: response.headers,
      url: finalUrl,
      text,
      json: () => parseJson(text, finalUrl, response.status),
    };
  } catch (error) {
    if (cancel?.aborted) {
      log("cancelled");
      throw cancel.reason;
    }
    if (timeout.aborted) {
      log("timed out");
      throw new UnavailableError(
        `${hostOf(url)} did not answer within ${formatSeconds(timeoutMs)}`,
        "Check your network connection and the API URL (--api-url / CLOUDSIGNAL_API_URL).",
      );
    }
    if (error instanceof TypeError || error instanceof Deno.errors.ConnectionRefused) {
      const reason = reasonOf(error);
      log(`failed: ${reason}`);
      throw new UnavailableError(
        `cannot reach ${hostOf(url)}: ${reason}`,
        "Check your network connection and the API URL (--api-url / CLOUDSIGNAL_API_URL).",
      );
    }
    throw error;
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

function parseJson(text: string, url: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UnavailableError(
      `${hostOf(url)} answered ${redactUrl(url)} with HTTP ${status} and a body that is not JSON`,
      "Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
    );
  }
}

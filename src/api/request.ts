/**
 * One API call: the bearer token (refreshed when needed), the time limit, retries with
 * backoff for calls that are safe to repeat, and every failure turned into a message a user
 * understands with the documented exit code (4 authentication, 5 network or server, 1 else).
 */

import { debugLog, type OperationContext } from "../core/context.ts";
import { OperationError, UnavailableError } from "../core/errors.ts";
import { hostOf, type HttpResponse } from "./http.ts";
import { authorizedRequest } from "../auth/session.ts";
import { printable } from "../core/printable.ts";

/** Status codes worth another attempt for a call that is safe to repeat. */
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
/** Attempts for a repeatable call: one plus three retries. */
const ATTEMPTS = 4;
/** First backoff delay; it doubles each retry (with jitter), up to `MAX_BACKOFF_MS`. */
const BASE_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 4_000;
/** A `Retry-After` longer than this is not waited for; the user is told instead. */
const MAX_RETRY_AFTER_MS = 30_000;
/** Default time limit of one request; `CLOUDSIGNAL_TIMEOUT` (seconds) overrides it. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** What to send. */
export interface ApiCall {
  method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path under the API URL, e.g. `/v2/acl/policy`. */
  path: string;
  query?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again (reads and pure computations); writes are never retried. */
  repeatable: boolean;
  /** What the call does, for messages: "fetch the policy". */
  purpose: string;
}

/** The time limit for one request, from `CLOUDSIGNAL_TIMEOUT` (seconds) or the default. */
export function requestTimeoutMs(context: OperationContext): number {
  const raw = context.env("CLOUDSIGNAL_TIMEOUT");
  if (raw === undefined || raw === "") return DEFAULT_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new OperationError(
      `CLOUDSIGNAL_TIMEOUT must be a number of seconds (got ${JSON.stringify(raw)})`,
    );
  }
  return seconds * 1000;
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or null. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** How a response was arrived at: attempts made and time spent waiting between them. */
interface Attempts {
  attempts: number;
  waitedMs: number;
  /** The last `Retry-After` the server sent, in milliseconds. */
  askedMs: number | null;
}

const attemptsOf = new WeakMap<HttpResponse, Attempts>();

/** `1.8 s`, `12 s`. */
function seconds(ms: number): string {
  const value = ms / 1000;
  return `${value < 10 && !Number.isInteger(value) ? value.toFixed(1) : Math.ceil(value)} s`;
}

function backoffMs(retry: number): number {
  const delay = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** retry);
  return delay * (0.8 + Math.random() * 0.4);
}

/** The server's `{ error, message }` made printable, when the body has that shape. */
export function apiErrorOf(response: HttpResponse): { error: string; message: string } | null {
  try {
    const body = JSON.parse(response.text) as Record<string, unknown>;
    if (typeof body?.error === "string") {
      return {
        error: printable(body.error, 100),
        message: printable(typeof body.message === "string" ? body.message : body.error),
      };
    }
  } catch { /* not JSON: described by its status */ }
  return null;
}

/**
 * Sends a call and returns the response for any status the caller handles. Repeatable calls
 * are retried on network failures and on 429, 500, 502, 503 and 504, honouring `Retry-After`.
 */
export async function send(context: OperationContext, call: ApiCall): Promise<HttpResponse> {
  const url = new URL(`${context.apiUrl}${call.path}`);
  for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
  const timeoutMs = requestTimeoutMs(context);
  let waitedMs = 0;
  for (let attempt = 1;; attempt++) {
    const last = !call.repeatable || attempt === ATTEMPTS;
    let response: HttpResponse;
    try {
      ({ response } = await authorizedRequest(context, {
        method: call.method,
        url,
        json: call.json,
        headers: call.headers,
        timeoutMs,
      }));
    } catch (error) {
      // Connection failures are retried; a request that timed out is not (it already waited).
      const retry = error instanceof UnavailableError && !/did not answer/.test(error.message);
      if (!retry || last) throw error;
      const wait = backoffMs(attempt - 1);
      debugLog(context, `${error.message}; retrying in ${Math.round(wait)} ms`);
      await sleep(wait);
      waitedMs += wait;
      continue;
    }
    const asked = retryAfterMs(response.headers.get("retry-after"));
    if (
      !RETRY_STATUSES.has(response.status) || last ||
      (asked !== null && asked > MAX_RETRY_AFTER_MS)
    ) {
      attemptsOf.set(response, { attempts: attempt, waitedMs, askedMs: asked });
      return response;
    }
    const wait = asked ?? backoffMs(attempt - 1);
    if (asked !== null && asked >= 1000) {
      context.log(
        `${hostOf(context.apiUrl)} answered HTTP ${response.status} and asked to retry after ` +
          `${seconds(asked)}: retrying in ${seconds(wait)} (attempt ${attempt + 1} of ${ATTEMPTS})`,
      );
    } else {
      debugLog(context, `HTTP ${response.status}; retrying in ${Math.round(wait)} ms`);
    }
    await sleep(wait);
    waitedMs += wait;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The error for a response the caller did not expect: 403 and other 4xx exit 1, 429 and 5xx
 * exit 5 (the service is unavailable), each saying what failed and what the server said.
 */
export function failure(
  context: OperationContext,
  call: ApiCall,
  response: HttpResponse,
): OperationError {
  const host = hostOf(context.apiUrl);
  const said = apiErrorOf(response);
  const detail = said ? `: ${said.message}` : "";
  if (response.status === 429 || response.status >= 500) {
    const limited = response.status === 429;
    return new UnavailableError(
      limited
        ? `${host} is limiting requests and refused to ${call.purpose}${detail}`
        : `${host} failed to ${call.purpose} (HTTP ${response.status}${detail})`,
      unavailableHint(response, limited),
    );
  }
  if (response.status === 403) {
    return new OperationError(`your account may not ${call.purpose}${detail}`);
  }
  if (response.status === 404) {
    return new OperationError(
      said ? said.message : `${host} has no ${call.path} (HTTP 404)`,
      said ? undefined : "Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
    );
  }
  if (response.status === 413) {
    return new OperationError(`the request to ${call.purpose} is too large for ${host}${detail}`);
  }
  return new OperationError(
    `${host} refused to ${call.purpose} (HTTP ${response.status}${detail})`,
  );
}

/** What a 429 or 5xx means for the user: how long was waited, and how long to wait now. */
function unavailableHint(response: HttpResponse, limited: boolean): string {
  const { attempts, waitedMs, askedMs } = attemptsOf.get(response) ??
    { attempts: 1, waitedMs: 0, askedMs: retryAfterMs(response.headers.get("retry-after")) };
  const tried = attempts > 1 ? `Tried ${attempts} times over ${seconds(waitedMs)}. ` : "";
  if (askedMs !== null && askedMs > MAX_RETRY_AFTER_MS) {
    return `${tried}It asked to retry after ${seconds(askedMs)}, longer than a command waits ` +
      `(${seconds(MAX_RETRY_AFTER_MS)}): try again in ${seconds(askedMs)}.`;
  }
  if (askedMs !== null) return `${tried}Try again in ${seconds(Math.max(askedMs, 1000))}.`;
  return `${tried}${
    limited ? "Try again in a moment." : "The service is having trouble; try again later."
  }`;
}

/** Parses a 2xx body as JSON; a body that is not JSON is the server's fault (exit 5). */
export function bodyOf<T>(response: HttpResponse): T {
  return response.json() as T;
}

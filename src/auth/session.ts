/**
 * The access token for a command: `CLOUDSIGNAL_TOKEN` when set, else the current stored
 * session of the chosen API URL (`context.apiUrl`, which the front end resolved to the current
 * session's), refreshed silently (under the credentials lock) when it has less than a minute
 * left. The API client calls `getAccessToken` (or uses
 * `authorizedRequest`) before every request.
 */

import { AuthError, OperationError, UnavailableError, UsageError } from "../core/errors.ts";
import { debugLog, DEFAULT_API_URL, type OperationContext } from "../core/context.ts";
import {
  hostOf,
  type HttpContext,
  type HttpRequest,
  httpRequest,
  type HttpResponse,
} from "../api/http.ts";
import {
  type CredentialsLocation,
  credentialsLocation,
  currentSession,
  findSession,
  readCredentials,
  type SessionOrganization,
  type StoredSession,
  updateCredentials,
  withSession,
} from "./credentials.ts";
import { checkApiUrl, DEFAULT_CLIENT_ID, OAuthError, refreshTokens } from "./oauth.ts";
import { printable } from "../core/printable.ts";

/** The environment variable that supplies an access token for CI and scripts. */
export const TOKEN_ENV = "CLOUDSIGNAL_TOKEN";

/** An access token refreshes when it has less than this many seconds left. */
export const REFRESH_MARGIN_SECONDS = 60;

/**
 * A token another process just refreshed is used as long as it has this many seconds left
 * (so eight commands started together make one refresh, whatever the token lifetime).
 */
const ADOPT_MARGIN_SECONDS = 10;

/** The documented message when the session of the default API is over. */
export const SESSION_EXPIRED_MESSAGE = "Session expired. Run `cloudsignal login` again.";

/**
 * The command that logs in to `apiUrl` again: `cloudsignal login`, with `--api-url` when it
 * is not the default API and `--client-id` when the session used another client.
 */
export function loginCommand(apiUrl: string, clientId: string = DEFAULT_CLIENT_ID): string {
  const apiFlag = apiUrl === DEFAULT_API_URL ? "" : ` --api-url ${apiUrl}`;
  const clientFlag = clientId === DEFAULT_CLIENT_ID ? "" : ` --client-id ${clientId}`;
  return `cloudsignal login${apiFlag}${clientFlag}`;
}

/**
 * "Session expired. Run `cloudsignal login` again." (exit 4), naming `--api-url` (and
 * `--client-id`) when they are not the defaults, so the command can be run as printed.
 */
export function sessionExpired(apiUrl: string = DEFAULT_API_URL, clientId?: string): AuthError {
  return new AuthError(
    `Session expired. Run \`${loginCommand(apiUrl, clientId)}\` again.`,
    undefined,
    "session_expired",
  );
}

/** What `getAccessToken` returns. */
export interface AccessToken {
  /** The bearer token. Never print it. */
  token: string;
  /** `env` for CLOUDSIGNAL_TOKEN, `file` for the credential store. */
  source: "file" | "env";
  /** The stored session (null for `env`). */
  session: StoredSession | null;
  /** The credentials file (null for `env`). */
  file: string | null;
  /** When the token expires, when known (for `env`: a JWT's `exp`, unverified). */
  expiresAt: Date | null;
}

/** Options of `getAccessToken`. */
export interface GetAccessTokenOptions {
  /**
   * The token the server just answered 401 to. A stored session is then refreshed even if
   * it looks valid (unless another process already replaced that token); with
   * CLOUDSIGNAL_TOKEN it is an `AuthError`.
   */
  rejectedToken?: string;
}

/** CLOUDSIGNAL_TOKEN, trimmed; null when unset or empty. `UsageError` when it cannot be a token. */
export function tokenFromEnv(
  context: { env(name: string): string | undefined },
): string | null {
  const value = context.env(TOKEN_ENV)?.trim() ?? "";
  if (value === "") return null;
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new UsageError(
      `${TOKEN_ENV} contains characters an access token cannot have (spaces, control or non-ASCII characters)`,
      "Set it to the access token alone.",
    );
  }
  return value;
}

/** The `exp` of a JWT, unverified, for display only; null for other tokens. */
export function jwtExpiry(token: string): Date | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replaceAll("-", "+").replaceAll("_", "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

function expiresAt(session: StoredSession): Date | null {
  return session.access_token_expires_at ? new Date(session.access_token_expires_at) : null;
}

/** Seconds the session's access token has left (Infinity when the server gave no lifetime). */
export function secondsLeft(session: StoredSession, now = Date.now()): number {
  const at = expiresAt(session);
  return at ? (at.getTime() - now) / 1000 : Infinity;
}

function refreshTokenExpired(session: StoredSession): boolean {
  return session.refresh_token_expires_at !== null &&
    Date.parse(session.refresh_token_expires_at) <= Date.now();
}

function notLoggedIn(apiUrl: string, sessions: StoredSession[]): AuthError {
  const elsewhere = apiUrl === DEFAULT_API_URL ? "" : ` to ${apiUrl}`;
  return new AuthError(
    `Not logged in${elsewhere}. Run \`${loginCommand(apiUrl)}\` first (or set ${TOKEN_ENV}).`,
    sessions.length === 0 ? undefined : storedSessionsHint(sessions),
  );
}

/** Lists stored sessions and how to use one: the hint when the API URL in use has none. */
export function storedSessionsHint(sessions: StoredSession[]): string {
  const lines = sessions.map((session) =>
    `  ${session.api_url}  ${session.organization.name} (${session.organization.id})  ${session.user.email}`
  );
  return [
    `Stored sessions:`,
    ...lines,
    "Use one with `cloudsignal auth switch` (see `cloudsignal auth status`).",
  ].join("\n");
}

function fromSession(session: StoredSession, location: CredentialsLocation): AccessToken {
  return {
    token: session.access_token,
    source: "file",
    session,
    file: location.file,
    expiresAt: expiresAt(session),
  };
}

/**
 * The access token to send, from CLOUDSIGNAL_TOKEN or the current session of
 * `context.apiUrl`.
 *
 * Contract:
 * - `CLOUDSIGNAL_TOKEN` (non-empty) wins: returned as is (`source: "env"`); never read
 *   from or written to disk, never refreshed. With `rejectedToken` set → `AuthError`.
 * - Otherwise the current session for `context.apiUrl` from the credential store. No
 *   session → `AuthError` (exit 4) saying to run `cloudsignal login`. A damaged or
 *   unsafe credentials file → `OperationError` (exit 1) saying how to fix it.
 * - When the access token has under 60 s left (or `rejectedToken` equals it), refreshes
 *   under the exclusive lock: re-reads the file after taking it, and uses a token another
 *   process stored in the meantime instead of refreshing again. A session without refresh
 *   token uses its access token until it expires. A refused refresh (`invalid_grant`,
 *   `invalid_client`, `unauthorized_client`) or an expired session without refresh token →
 *   `AuthError` (`session_expired`) "Session expired. Run `cloudsignal login` again.", naming
 *   `--api-url` for another API (`sessionExpired`). Network trouble or a 5xx →
 *   `UnavailableError` (exit 5); the stored session is left as it was.
 * - The result never appears in any output; callers must not print it either.
 */
export async function getAccessToken(
  context: OperationContext,
  options: GetAccessTokenOptions = {},
): Promise<AccessToken> {
  checkApiUrl(context.apiUrl);
  const envToken = tokenFromEnv(context);
  if (envToken !== null) {
    if (options.rejectedToken !== undefined) {
      throw new AuthError(
        `the server rejected the token in ${TOKEN_ENV} (expired, revoked, or for another API)`,
        `Set ${TOKEN_ENV} to a valid access token, or unset it to use \`cloudsignal login\`.`,
      );
    }
    return {
      token: envToken,
      source: "env",
      session: null,
      file: null,
      expiresAt: jwtExpiry(envToken),
    };
  }
  const file = await readCredentials(credentialsLocation(context.home));
  const session = file ? currentSession(file, context.apiUrl) : null;
  if (!file || !session) throw notLoggedIn(context.apiUrl, file?.sessions ?? []);
  return await storedAccessToken(context, session, options);
}

/**
 * The access token of one stored session, refreshed when needed exactly as `getAccessToken`
 * does (it also checks sessions that are not the current one). A session without a refresh
 * token is used until its access token expires, then it is "Session expired".
 */
export async function storedAccessToken(
  context: OperationContext,
  session: StoredSession,
  options: GetAccessTokenOptions = {},
): Promise<AccessToken> {
  const location = credentialsLocation(context.home);
  const left = secondsLeft(session);
  const rejected = options.rejectedToken;
  if (rejected === undefined) {
    if (left >= REFRESH_MARGIN_SECONDS) return fromSession(session, location);
    if (session.refresh_token === null && left > 0) return fromSession(session, location);
  } else if (session.access_token !== rejected && left > 0) {
    return fromSession(session, location);
  }
  return await refreshSession(context, location, session, rejected);
}

async function refreshSession(
  context: OperationContext,
  location: CredentialsLocation,
  seen: StoredSession,
  rejected: string | undefined,
): Promise<AccessToken> {
  debugLog(context, "access token expires soon; refreshing the session");
  const session = await updateCredentials(location, async (file) => {
    const latest = findSession(file, seen.api_url, seen.organization.id);
    if (!latest) throw notLoggedIn(seen.api_url, file.sessions);
    const changed = latest.access_token !== seen.access_token &&
      latest.access_token !== rejected;
    if (changed && secondsLeft(latest) >= ADOPT_MARGIN_SECONDS) {
      debugLog(context, "another cloudsignal process refreshed the session; using its token");
      return { result: latest };
    }
    if (!latest.refresh_token || refreshTokenExpired(latest)) {
      throw sessionExpired(latest.api_url, latest.client_id);
    }
    let tokens;
    try {
      tokens = await refreshTokens(context, {
        tokenEndpoint: latest.token_endpoint,
        clientId: latest.client_id,
        refreshToken: latest.refresh_token,
      });
    } catch (error) {
      if (
        error instanceof OAuthError &&
        ["invalid_grant", "invalid_client", "unauthorized_client"].includes(error.oauthCode)
      ) {
        throw sessionExpired(latest.api_url, latest.client_id);
      }
      throw error;
    }
    const now = Date.now();
    const updated: StoredSession = {
      ...latest,
      access_token: tokens.access_token,
      access_token_expires_at: tokens.expires_in === null
        ? null
        : new Date(now + tokens.expires_in * 1000).toISOString(),
      refresh_token: tokens.refresh_token ?? latest.refresh_token,
      refresh_token_expires_at: tokens.refresh_token_expires_in === null
        ? (tokens.refresh_token ? null : latest.refresh_token_expires_at)
        : new Date(now + tokens.refresh_token_expires_in * 1000).toISOString(),
      scope: tokens.scope ?? latest.scope,
      issued_at: new Date(now).toISOString(),
    };
    return { write: withSession(file, updated, false), result: updated };
  }, {
    onWait: (pid) =>
      debugLog(
        context,
        `waiting for another cloudsignal process${
          pid ? ` (pid ${pid})` : ""
        } to finish with the credentials`,
      ),
  });
  return fromSession(session, location);
}

/**
 * Sends `request` with `Authorization: Bearer <token>` from `getAccessToken`. On a 401 it
 * refreshes once (`rejectedToken`) and retries; a second 401 is "Session expired"
 * (`AuthError`, exit 4) for a stored session, and a clear `AuthError` for CLOUDSIGNAL_TOKEN.
 * Other statuses are returned to the caller.
 */
export async function authorizedRequest(
  context: OperationContext,
  request: HttpRequest,
): Promise<{ response: HttpResponse; access: AccessToken }> {
  let access = await getAccessToken(context);
  const send = (token: string) =>
    httpRequest(context, {
      ...request,
      headers: { ...request.headers, authorization: `Bearer ${token}` },
    });
  let response = await send(access.token);
  if (response.status !== 401) return { response, access };
  access = await getAccessToken(context, { rejectedToken: access.token });
  response = await send(access.token);
  if (response.status === 401) {
    throw sessionExpired(access.session?.api_url ?? context.apiUrl, access.session?.client_id);
  }
  return { response, access };
}

/** `GET /v2/me`: who the token belongs to. */
export interface Me {
  user_id: string;
  /** The MQTT username without `@<short_id>`; null when the server does not say. */
  username: string | null;
  email: string;
  organization: SessionOrganization;
}

/**
 * Checks a `/v2/me` body; `UnavailableError` (the server answered something unusable)
 * naming the field when it does not match.
 */
export function parseMe(body: unknown, source: string): Me {
  const object = (value: unknown) =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  const root = object(body);
  const organization = object(root?.organization);
  const text = (value: unknown, where: string): string => {
    const clean = typeof value === "string" ? printable(value) : "";
    if (clean === "") {
      throw new UnavailableError(
        `${source} answered without ${where} (expected a non-empty string)`,
        "Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
      );
    }
    return clean;
  };
  const username = typeof root?.username === "string" ? printable(root.username) : "";
  return {
    user_id: text(root?.user_id, "user_id"),
    username: username === "" ? null : username,
    email: text(root?.email, "email"),
    organization: {
      id: text(organization?.id, "organization.id"),
      short_id: text(organization?.short_id, "organization.short_id"),
      name: text(organization?.name, "organization.name"),
    },
  };
}

/**
 * `GET <apiUrl>/v2/me` with a given token (used by login, before a session exists).
 * Null on 401; `UnavailableError` on 5xx; `OperationError` on other failures.
 */
export async function fetchMe(
  context: HttpContext,
  apiUrl: string,
  token: string,
  signal?: AbortSignal,
): Promise<Me | null> {
  const url = `${apiUrl}/v2/me`;
  const response = await httpRequest(context, {
    url,
    headers: { authorization: `Bearer ${token}` },
    signal,
  });
  if (response.status === 401) return null;
  return parseMe(checkMeResponse(response, url), url);
}

/** The JSON body of a `/v2/me` answer, or the error its status means. */
export function checkMeResponse(response: HttpResponse, url: string): unknown {
  if (response.status >= 500 || response.status === 429) {
    throw new UnavailableError(`${hostOf(url)} answered HTTP ${response.status} to GET /v2/me`);
  }
  if (!response.ok) {
    throw new OperationError(`${hostOf(url)} answered HTTP ${response.status} to GET /v2/me`);
  }
  return response.json();
}

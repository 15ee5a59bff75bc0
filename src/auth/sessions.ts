/**
 * The stored sessions as a whole: which one is current, what each one's tokens allow
 * (`authStatus`), asking a session's server whether it still works (`checkSession`), and
 * choosing the current session (`switchSession`).
 */

import { printable } from "../core/printable.ts";
import { AuthError, OperationError, UsageError } from "../core/errors.ts";
import { type OperationContext, step } from "../core/context.ts";
import { apiErrorOf } from "../api/request.ts";
import { hostOf, httpRequest } from "../api/http.ts";
import {
  type CredentialsFile,
  credentialsLocation,
  currentApiUrlOf,
  currentSession,
  findSession,
  readCredentials,
  sameSession,
  type SessionOrganization,
  type StoredSession,
  updateCredentials,
  withCurrent,
} from "./credentials.ts";
import {
  jwtExpiry,
  loginCommand,
  type Me,
  parseMe,
  secondsLeft,
  storedAccessToken,
  TOKEN_ENV,
  tokenFromEnv,
} from "./session.ts";

/** A stored session as messages and lists name it. */
export interface SessionSummary {
  api_url: string;
  organization: SessionOrganization;
  email: string;
  /** Null for sessions stored before usernames were kept. */
  username: string | null;
}

/** The summary of a stored session. */
export function summaryOf(session: StoredSession): SessionSummary {
  return {
    api_url: session.api_url,
    organization: session.organization,
    email: session.user.email,
    username: session.user.username,
  };
}

/** `Development (1e15…) at http://127.0.0.1:8780 as ada@example.com`. */
export function describeSession(session: SessionSummary): string {
  const { organization } = session;
  return `${organization.name} (${organization.id}) at ${session.api_url} as ${session.email}`;
}

/** What the server says of a stored session. */
export type SessionCheck =
  /** It answers `GET /v2/me` for the session's organization. */
  | { state: "valid"; detail: string }
  /** The server says the session, or its organization, is over. */
  | { state: "gone"; detail: string }
  /** The server could not be asked, or answered something unusable. */
  | { state: "unreachable"; detail: string };

/** Time limit of one request of a check: a dead server must not hold up logout or status. */
export const CHECK_TIMEOUT_MS = 5_000;

/**
 * Asks the session's server whether it still works: `GET /v2/me` with its access token,
 * refreshed first when needed (and once more after a 401). Never throws for what the server
 * answers; the session is updated in the store only by a refresh (and by
 * `rememberIdentity` when the organization was renamed).
 */
export async function checkSession(
  context: OperationContext,
  session: StoredSession,
): Promise<SessionCheck> {
  const at = { ...context, apiUrl: session.api_url, apiUrlExplicit: true };
  const url = `${session.api_url}/v2/me`;
  try {
    let access = await storedAccessToken(at, session);
    const ask = (token: string) =>
      httpRequest(at, {
        url,
        headers: { authorization: `Bearer ${token}` },
        timeoutMs: CHECK_TIMEOUT_MS,
      });
    let response = await ask(access.token);
    if (response.status === 401) {
      access = await storedAccessToken(at, access.session ?? session, {
        rejectedToken: access.token,
      });
      response = await ask(access.token);
    }
    const said = apiErrorOf(response)?.message;
    const detail = `GET /v2/me answered HTTP ${response.status}${said ? `: ${said}` : ""}`;
    if ([401, 403, 404, 410].includes(response.status)) return { state: "gone", detail };
    if (!response.ok) return { state: "unreachable", detail };
    const me = parseMe(response.json(), `${hostOf(url)} (GET /v2/me)`);
    if (me.organization.id !== session.organization.id) {
      return {
        state: "gone",
        detail:
          `its token now acts for another organization, ${me.organization.name} (${me.organization.id})`,
      };
    }
    await rememberIdentity(context, access.session ?? session, me);
    return { state: "valid", detail: `the server knows ${me.email} in ${me.organization.name}` };
  } catch (error) {
    if (error instanceof AuthError) {
      return {
        state: "gone",
        detail: error.code === "session_expired"
          ? "it refused to renew the session (over or revoked)"
          : error.message,
      };
    }
    if (error instanceof OperationError) return { state: "unreachable", detail: error.message };
    throw error;
  }
}

/**
 * Stores what the server now says of a session's user and organization (a renamed
 * organization, a username the session was stored without). Best effort: a store that
 * cannot be written is left as it is.
 */
export async function rememberIdentity(
  context: OperationContext,
  session: StoredSession,
  me: Me,
): Promise<void> {
  if (me.organization.id !== session.organization.id) return;
  const same = me.organization.name === session.organization.name &&
    me.organization.short_id === session.organization.short_id &&
    me.email === session.user.email && me.username === session.user.username;
  if (same) return;
  try {
    await updateCredentials(credentialsLocation(context.home), (file) => {
      const latest = findSession(file, session.api_url, session.organization.id);
      if (!latest) return { result: undefined };
      const updated: StoredSession = {
        ...latest,
        organization: me.organization,
        user: { id: latest.user.id, email: me.email, username: me.username },
      };
      return {
        write: {
          ...file,
          sessions: file.sessions.map((s) => sameSession(s, latest) ? updated : s),
        },
        result: undefined,
      };
    });
  } catch (error) {
    if (!(error instanceof OperationError)) throw error;
  }
}

/** When a new login will be needed, as far as the stored tokens say. */
export type LoginNeeded =
  /** Now: the access token expired and nothing can renew it. */
  | { when: "now" }
  /** At `at`: the access token's expiry (no refresh token) or the refresh token's. */
  | { when: "at"; at: string; because: "access_token_expires" | "refresh_token_expires" }
  /** The server did not say how long its refresh token lasts. */
  | { when: "unknown" };

/** When a new login will be needed for `session`. */
export function loginNeeded(session: StoredSession, now = Date.now()): LoginNeeded {
  if (session.refresh_token === null) {
    if (session.access_token_expires_at === null) return { when: "unknown" };
    if (secondsLeft(session, now) <= 0) return { when: "now" };
    return { when: "at", at: session.access_token_expires_at, because: "access_token_expires" };
  }
  if (session.refresh_token_expires_at === null) return { when: "unknown" };
  if (Date.parse(session.refresh_token_expires_at) <= now) return { when: "now" };
  return { when: "at", at: session.refresh_token_expires_at, because: "refresh_token_expires" };
}

/** One stored session in `auth status`. */
export interface SessionStatus extends SessionSummary {
  /** Where its token comes from. */
  source: "stored";
  /** Commands use this session now (with the flags and environment given). */
  current: boolean;
  /** The session `--api-url <its API URL>` uses (the last one logged in or switched to there). */
  current_for_api_url: boolean;
  scope: string | null;
  access_token_expires_at: string | null;
  /** Whether a refresh token renews the access token. */
  refreshable: boolean;
  refresh_token_expires_at: string | null;
  login_needed: LoginNeeded;
  /** The command that logs in to this session's API again. */
  login_command: string;
  /** When the login happened. */
  created_at: string;
  /** What its server said, with `check`. */
  check?: SessionCheck;
}

/** `auth status`: every stored session, and the token from the environment when set. */
export interface AuthStatus {
  credentials_file: string;
  /** The API URL commands use: `--api-url`, CLOUDSIGNAL_API_URL or the current session's. */
  api_url: string;
  /** CLOUDSIGNAL_TOKEN, when set: commands use it instead of any stored session. */
  env_token: { source: typeof TOKEN_ENV; api_url: string; expires_at: string | null } | null;
  sessions: SessionStatus[];
}

/**
 * Every stored session with its expiries and whether commands use it; with `check`, also
 * what each server says (`checkSession`, which may refresh a session).
 */
export async function authStatus(
  context: OperationContext,
  input: { check?: boolean } = {},
): Promise<AuthStatus> {
  const location = credentialsLocation(context.home);
  const envToken = tokenFromEnv(context);
  const file = await readCredentials(location);
  const stored = file?.sessions ?? [];
  const inUse = envToken === null && file ? currentSession(file, context.apiUrl) : null;
  const checks = input.check
    ? await Promise.all(stored.map((session) => checkSession(context, session)))
    : null;
  // A check may have refreshed or renamed sessions: show what is stored now.
  const latest = checks ? await readCredentials(location) : file;
  const sessions = stored.map((seen, index): SessionStatus => {
    const session = (latest && findSession(latest, seen.api_url, seen.organization.id)) ?? seen;
    return {
      ...summaryOf(session),
      source: "stored",
      current: inUse !== null && sameSession(inUse, session),
      current_for_api_url: file?.current[session.api_url] === session.organization.id,
      scope: session.scope === null ? null : printable(session.scope, 500),
      access_token_expires_at: session.access_token_expires_at,
      refreshable: session.refresh_token !== null,
      refresh_token_expires_at: session.refresh_token_expires_at,
      login_needed: loginNeeded(session),
      login_command: loginCommand(session.api_url, session.client_id),
      created_at: session.created_at,
      ...(checks ? { check: checks[index] } : {}),
    };
  });
  return {
    credentials_file: location.file,
    api_url: context.apiUrl,
    env_token: envToken === null ? null : {
      source: TOKEN_ENV,
      api_url: context.apiUrl,
      expires_at: jwtExpiry(envToken)?.toISOString() ?? null,
    },
    sessions,
  };
}

/** Which sessions a command names: by API URL and/or organization (name, id or short id). */
export interface SessionSelector {
  apiUrl?: string;
  organization?: string;
}

/** The stored sessions `selector` names. */
export function matchSessions(file: CredentialsFile, selector: SessionSelector): StoredSession[] {
  const wanted = selector.organization?.trim();
  return file.sessions.filter((session) => {
    if (selector.apiUrl !== undefined && session.api_url !== selector.apiUrl) return false;
    if (wanted === undefined) return true;
    const { id, short_id, name } = session.organization;
    return id === wanted || short_id === wanted || name.toLowerCase() === wanted.toLowerCase();
  });
}

/** `--api-url <url> --org <id>`: the flags that name exactly one session. */
export function selectorFlags(session: SessionSummary): string {
  return `--api-url ${session.api_url} --org ${session.organization.id}`;
}

/** A selector matched several sessions; `candidates` lists them. */
export class AmbiguousSessionError extends UsageError {
  constructor(readonly candidates: SessionSummary[], command: string) {
    super(
      `${candidates.length} stored sessions match; say which one`,
      [
        ...candidates.map((session) =>
          `  cloudsignal ${command} ${selectorFlags(session)}    # ${describeSession(session)}`
        ),
      ].join("\n"),
      "organization",
    );
    this.name = "AmbiguousSessionError";
  }
}

function noMatch(selector: SessionSelector, sessions: StoredSession[]): OperationError {
  const what = [
    selector.organization === undefined ? null : `organization "${selector.organization}"`,
    selector.apiUrl === undefined ? null : `API URL ${selector.apiUrl}`,
  ].filter((part) => part !== null).join(" at ");
  return new OperationError(
    sessions.length === 0
      ? "No session is stored. Log in with `cloudsignal login`."
      : `No stored session matches ${what || "another session"}.`,
    sessions.length === 0 ? undefined : [
      "Stored sessions:",
      ...sessions.map((session) => `  ${describeSession(summaryOf(session))}`),
    ].join("\n"),
    "not_found",
  );
}

/**
 * The one stored session `selector` names; without a selector, the one session that is not
 * current. `AmbiguousSessionError` for several, `OperationError` (`not_found`) for none.
 */
export function selectSession(
  file: CredentialsFile | null,
  selector: SessionSelector,
  command: string,
): StoredSession {
  const sessions = file?.sessions ?? [];
  const unfiltered = selector.apiUrl === undefined && selector.organization === undefined;
  let candidates = file ? matchSessions(file, selector) : [];
  if (unfiltered && file) {
    const current = currentSession(file, currentApiUrlOf(file) ?? "");
    candidates = candidates.filter((session) => !current || !sameSession(session, current));
  }
  if (candidates.length === 0) throw noMatch(selector, sessions);
  if (candidates.length > 1) throw new AmbiguousSessionError(candidates.map(summaryOf), command);
  return candidates[0];
}

/** What `switchSession` did. */
export interface SwitchResult {
  /** The session that is current now. */
  session: SessionSummary;
  /** The one that was current before, if any. */
  previous: SessionSummary | null;
  /** What the server said (`unreachable`: switched without confirmation). */
  check: SessionCheck;
  /** CLOUDSIGNAL_TOKEN is set: commands keep using it. */
  env_token_set: boolean;
}

/**
 * Makes the session `selector` names the current one, after asking its server: a session
 * the server says is over is refused (`AuthError`, with the command to log in again); one
 * whose server cannot be reached is chosen, and the result says it was not confirmed.
 */
export async function switchSession(
  context: OperationContext,
  selector: SessionSelector,
): Promise<SwitchResult> {
  const location = credentialsLocation(context.home);
  const file = await readCredentials(location);
  const chosen = selectSession(file, selector, "auth switch");
  const previousApi = file ? currentApiUrlOf(file) : null;
  const previous = file && previousApi ? currentSession(file, previousApi) : null;
  const check = await step(
    context,
    `Asking ${hostOf(chosen.api_url)} whether the session still works`,
    () => checkSession(context, chosen),
  );
  if (check.state === "gone") {
    throw new AuthError(
      `The server no longer accepts the session of ${
        describeSession(summaryOf(chosen))
      }: ${check.detail}.`,
      `Log in again with \`${
        loginCommand(chosen.api_url, chosen.client_id)
      }\`, or remove it with \`cloudsignal logout ${selectorFlags(summaryOf(chosen))}\`.`,
      "session_expired",
    );
  }
  const session = await updateCredentials(location, (latest) => {
    const still = findSession(latest, chosen.api_url, chosen.organization.id);
    if (!still) throw noMatch(selector, latest.sessions);
    return {
      write: withCurrent(latest, still.api_url, still.organization.id),
      result: still,
    };
  });
  return {
    session: summaryOf(session),
    previous: previous ? summaryOf(previous) : null,
    check,
    env_token_set: tokenFromEnv(context) !== null,
  };
}

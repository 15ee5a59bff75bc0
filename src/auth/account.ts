/** Who the credentials belong to (`whoami`), and ending a session (`logout`). */

import { OperationError } from "../core/errors.ts";
import { type OperationContext, step } from "../core/context.ts";
import { type ApiCall, failure, send } from "../api/request.ts";
import { hostOf } from "../api/http.ts";
import {
  type CredentialsFile,
  credentialsLocation,
  currentApiUrlOf,
  currentSession,
  findSession,
  readCredentials,
  type SessionOrganization,
  type StoredSession,
  updateCredentials,
  withoutSession,
} from "./credentials.ts";
import { discoverMetadata, revokeToken } from "./oauth.ts";
import { getAccessToken, parseMe, tokenFromEnv } from "./session.ts";
import {
  checkSession,
  rememberIdentity,
  selectSession,
  type SessionCheck,
  type SessionSummary,
  summaryOf,
} from "./sessions.ts";

/** `Token expires: in 47 minutes` (rounded to the nearest minute). */
export function expiryText(expiresAt: Date | null, now = Date.now()): string {
  if (expiresAt === null) return "unknown";
  const seconds = (expiresAt.getTime() - now) / 1000;
  if (seconds <= 0) return "expired";
  if (seconds < 60) return "in less than a minute";
  const minutes = Math.round(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Who the credentials belong to, as the server says. */
export interface WhoamiResult {
  email: string;
  user_id: string;
  /** The MQTT username without `@<short_id>`; null when the server does not say. */
  username: string | null;
  organization: SessionOrganization;
  api_url: string;
  /** When the access token expires (ISO 8601), when known. */
  token_expires_at: string | null;
  /** `file` for a stored session, `env` for CLOUDSIGNAL_TOKEN. */
  source: "file" | "env";
  /** The credentials file (null for CLOUDSIGNAL_TOKEN). */
  credentials_file: string | null;
}

const ME: ApiCall = { method: "GET", path: "/v2/me", repeatable: true, purpose: "say who you are" };

/**
 * Asks the server who the credentials belong to (`GET /v2/me`, refreshed and retried like
 * every read). `AuthError` when not logged in or the session is over, `UnavailableError`
 * when the server cannot be reached, fails (with its message) or answers something unusable.
 */
export async function whoami(context: OperationContext): Promise<WhoamiResult> {
  const response = await send(context, ME);
  if (response.status !== 200) throw failure(context, ME, response);
  const me = parseMe(response.json(), `${hostOf(context.apiUrl)} (GET /v2/me)`);
  const access = await getAccessToken(context);
  if (access.session) await rememberIdentity(context, access.session, me);
  return {
    email: me.email,
    user_id: me.user_id,
    username: me.username,
    organization: me.organization,
    api_url: context.apiUrl,
    token_expires_at: access.expiresAt?.toISOString() ?? null,
    source: access.source,
    credentials_file: access.file,
  };
}

/** Time limit of the revocation request: logout must not hang on a dead server. */
export const REVOKE_TIMEOUT_MS = 5_000;

/** A session logout did not make current, and why. */
export interface SkippedSession {
  session: SessionSummary;
  check: SessionCheck;
}

/** What `logout` did. */
export interface LogoutResult {
  logged_out: boolean;
  revoked: boolean;
  /** Why the revocation failed, when it did. */
  revoke_error: string | null;
  api_url: string;
  /** The session that ended (null when there was none). */
  session: SessionSummary | null;
  /** The current session afterwards (what commands without `--api-url` use), if any. */
  now_current: SessionSummary | null;
  /** Sessions of the same API URL not made current: their server said they are over, or could not be asked. */
  skipped: SkippedSession[];
  /** The sessions still stored. */
  remaining: SessionSummary[];
  credentials_file: string;
  credentials_file_removed: boolean;
  /** CLOUDSIGNAL_TOKEN is still set, so commands keep using it. */
  env_token_set: boolean;
}

/** Which session `logout` ends: the current one of the API URL, or the organization named. */
export interface LogoutInput {
  /** An organization's name, id or short id (`--org`), among the API URL's sessions when given. */
  organization?: string;
}

async function revoke(
  context: OperationContext,
  session: StoredSession,
): Promise<{ revoked: boolean; problem: string | null }> {
  try {
    let endpoint = session.revocation_endpoint;
    if (endpoint === null) {
      endpoint = (await discoverMetadata(context, session.api_url)).revocation_endpoint;
    }
    if (endpoint === null) {
      return { revoked: false, problem: "the server offers no revocation endpoint" };
    }
    await revokeToken(context, {
      revocationEndpoint: endpoint,
      clientId: session.client_id,
      token: session.refresh_token ?? session.access_token,
      hint: session.refresh_token ? "refresh_token" : "access_token",
      timeoutMs: REVOKE_TIMEOUT_MS,
    });
    return { revoked: true, problem: null };
  } catch (error) {
    if (!(error instanceof OperationError)) throw error;
    return { revoked: false, problem: error.message };
  }
}

/**
 * After the current session of `apiUrl` ended: the newest other session of that API URL
 * whose server confirms it still works becomes current there. Sessions the server says are
 * over, or that cannot be checked, are never chosen; they are returned as skipped.
 */
async function chooseSuccessor(
  context: OperationContext,
  file: CredentialsFile,
  apiUrl: string,
): Promise<{ chosen: StoredSession | null; skipped: SkippedSession[] }> {
  const candidates = file.sessions
    .filter((session) => session.api_url === apiUrl)
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const skipped: SkippedSession[] = [];
  for (const candidate of candidates) {
    const check = await checkSession(context, candidate);
    if (check.state === "valid") return { chosen: candidate, skipped };
    skipped.push({ session: summaryOf(candidate), check });
  }
  return { chosen: null, skipped };
}

/**
 * Revokes a session's refresh token at the server (best effort, short time-out, reported when
 * it failed), then deletes the session; the file goes when none remains. When it was the
 * current session of its API URL, another session there becomes current only after its
 * server confirmed it (`GET /v2/me`); the result says which session is current afterwards.
 */
export async function logout(
  context: OperationContext,
  input: LogoutInput = {},
): Promise<LogoutResult> {
  const envSet = tokenFromEnv(context) !== null;
  const location = credentialsLocation(context.home);
  const file = await readCredentials(location);
  const session = input.organization === undefined
    ? (file ? currentSession(file, context.apiUrl) : null)
    : selectSession(file, {
      apiUrl: context.apiUrlExplicit ? context.apiUrl : undefined,
      organization: input.organization,
    }, "logout");
  const base = {
    api_url: session?.api_url ?? context.apiUrl,
    credentials_file: location.file,
    env_token_set: envSet,
  };
  if (!session) {
    const now = file ? currentSession(file, currentApiUrlOf(file) ?? "") : null;
    return {
      ...base,
      logged_out: false,
      revoked: false,
      revoke_error: null,
      session: null,
      now_current: now ? summaryOf(now) : null,
      skipped: [],
      remaining: (file?.sessions ?? []).map(summaryOf),
      credentials_file_removed: false,
    };
  }

  const { revoked, problem } = await revoke(context, session);
  const wasCurrent = await updateCredentials(location, (latest) => {
    const existed = findSession(latest, session.api_url, session.organization.id) !== null;
    return {
      write: existed ? withoutSession(latest, session.api_url, session.organization.id) : undefined,
      result: latest.current[session.api_url] === session.organization.id,
    };
  });
  let skipped: SkippedSession[] = [];
  let remaining = await readCredentials(location);
  if (wasCurrent && remaining) {
    const stored = remaining;
    const successor = await step(
      context,
      "Asking the server which other session still works",
      () => chooseSuccessor(context, stored, session.api_url),
    );
    skipped = successor.skipped;
    const chosen = successor.chosen;
    if (chosen) {
      remaining = await updateCredentials(location, (latest) => {
        const still = findSession(latest, chosen.api_url, chosen.organization.id) !== null;
        if (!still || latest.current[chosen.api_url] !== undefined) return { result: latest };
        const next = {
          ...latest,
          current: { ...latest.current, [chosen.api_url]: chosen.organization.id },
        };
        return { write: next, result: next };
      });
    }
  }
  const currentApi = remaining ? currentApiUrlOf(remaining) : null;
  const now = remaining && currentApi ? currentSession(remaining, currentApi) : null;
  return {
    ...base,
    logged_out: true,
    revoked,
    revoke_error: problem,
    session: summaryOf(session),
    now_current: now ? summaryOf(now) : null,
    skipped,
    remaining: (remaining?.sessions ?? []).map(summaryOf),
    credentials_file_removed: remaining === null,
  };
}

/** Who the credentials belong to (`whoami`), and ending a session (`logout`). */

import { OperationError } from "../core/errors.ts";
import type { OperationContext } from "../core/context.ts";
import type { SessionOrganization } from "./credentials.ts";
import {
  credentialsLocation,
  currentSession,
  findSession,
  readCredentials,
  updateCredentials,
  withoutSession,
} from "./credentials.ts";
import { discoverMetadata, revokeToken } from "./oauth.ts";
import { authorizedRequest, checkMeResponse, parseMe, tokenFromEnv } from "./session.ts";

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
  organization: SessionOrganization;
  api_url: string;
  /** When the access token expires (ISO 8601), when known. */
  token_expires_at: string | null;
  /** `file` for a stored session, `env` for CLOUDSIGNAL_TOKEN. */
  source: "file" | "env";
  /** The credentials file (null for CLOUDSIGNAL_TOKEN). */
  credentials_file: string | null;
}

/** Asks the server who the credentials belong to; `AuthError` when not logged in. */
export async function whoami(context: OperationContext): Promise<WhoamiResult> {
  const { response, access } = await authorizedRequest(context, {
    url: `${context.apiUrl}/v2/me`,
  });
  const me = parseMe(checkMeResponse(response, response.url), `${context.apiUrl}/v2/me`);
  return {
    email: me.email,
    user_id: me.user_id,
    organization: me.organization,
    api_url: context.apiUrl,
    token_expires_at: access.expiresAt?.toISOString() ?? null,
    source: access.source,
    credentials_file: access.file,
  };
}

/** Time limit of the revocation request: logout must not hang on a dead server. */
export const REVOKE_TIMEOUT_MS = 5_000;

/** What `logout` did. */
export interface LogoutResult {
  logged_out: boolean;
  revoked: boolean;
  /** Why the revocation failed, when it did. */
  revoke_error: string | null;
  api_url: string;
  /** The session that ended (null when there was none). */
  session: { email: string; organization: SessionOrganization } | null;
  /** The session that is now current for the API URL, if any. */
  now_current: { email: string; organization: SessionOrganization } | null;
  credentials_file: string;
  credentials_file_removed: boolean;
  /** CLOUDSIGNAL_TOKEN is still set, so commands keep using it. */
  env_token_set: boolean;
}

/**
 * Revokes the current session's refresh token at the server (best effort, short time-out,
 * reported when it failed), then deletes the session; the file goes when none remains.
 */
export async function logout(context: OperationContext): Promise<LogoutResult> {
  const envSet = tokenFromEnv(context) !== null;
  const location = credentialsLocation(context.home);
  const file = await readCredentials(location);
  const session = file ? currentSession(file, context.apiUrl) : null;
  const base = {
    api_url: context.apiUrl,
    credentials_file: location.file,
    env_token_set: envSet,
  };
  if (!session) {
    return {
      ...base,
      logged_out: false,
      revoked: false,
      revoke_error: null,
      session: null,
      now_current: null,
      credentials_file_removed: false,
    };
  }

  let revoked = false;
  let revokeProblem: string | null = null;
  try {
    let endpoint = session.revocation_endpoint;
    if (endpoint === null) {
      const metadata = await discoverMetadata(context, context.apiUrl);
      endpoint = metadata.revocation_endpoint;
    }
    if (endpoint === null) {
      revokeProblem = "the server offers no revocation endpoint";
    } else {
      await revokeToken(context, {
        revocationEndpoint: endpoint,
        clientId: session.client_id,
        token: session.refresh_token ?? session.access_token,
        hint: session.refresh_token ? "refresh_token" : "access_token",
        timeoutMs: REVOKE_TIMEOUT_MS,
      });
      revoked = true;
    }
  } catch (error) {
    if (!(error instanceof OperationError)) throw error;
    revokeProblem = error.message;
  }

  const remaining = await updateCredentials(location, (latest) => {
    const next = withoutSession(latest, session.api_url, session.organization.id);
    const existed = findSession(latest, session.api_url, session.organization.id) !== null;
    return { write: existed ? next : undefined, result: next };
  });
  const next = currentSession(remaining, context.apiUrl);
  return {
    ...base,
    logged_out: true,
    revoked,
    revoke_error: revokeProblem,
    session: { email: session.user.email, organization: session.organization },
    now_current: next ? { email: next.user.email, organization: next.organization } : null,
    credentials_file_removed: remaining.sessions.length === 0,
  };
}

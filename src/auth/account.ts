/** `cloudsignal whoami` and `cloudsignal logout`. */

import { CliError } from "../cli/errors.ts";
import { EXIT_OK } from "../cli/exit_codes.ts";
import type { CliContext } from "../cli/program.ts";
import { hostOf } from "../api/http.ts";
import {
  credentialsLocation,
  currentSession,
  findSession,
  readCredentials,
  updateCredentials,
  withoutSession,
} from "./credentials.ts";
import { discoverMetadata, revokeToken } from "./oauth.ts";
import { authorizedRequest, checkMeResponse, parseMe, TOKEN_ENV, tokenFromEnv } from "./session.ts";

/** `Token expires: in 47 minutes` (rounded to the nearest minute). */
export function expiryText(expiresAt: Date | null, now = Date.now()): string {
  if (expiresAt === null) return "unknown";
  const seconds = (expiresAt.getTime() - now) / 1000;
  if (seconds <= 0) return "expired";
  if (seconds < 60) return "in less than a minute";
  const minutes = Math.round(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Prints who the session belongs to, as the server says; exit 4 when not logged in. */
export async function whoami(context: CliContext, options: { json?: boolean }): Promise<number> {
  const { response, access } = await authorizedRequest(context, {
    url: `${context.apiUrl}/v2/me`,
  });
  const me = parseMe(checkMeResponse(response, response.url), `${context.apiUrl}/v2/me`);
  const source = access.source === "env" ? TOKEN_ENV : access.file ?? "";
  if (options.json) {
    context.io.out(
      `${
        JSON.stringify({
          email: me.email,
          user_id: me.user_id,
          organization: me.organization,
          api_url: context.apiUrl,
          token_expires_at: access.expiresAt?.toISOString() ?? null,
          source: access.source,
          credentials_file: access.file,
        })
      }\n`,
    );
    return EXIT_OK;
  }
  context.io.out(
    `Email: ${me.email}\nOrganization: ${me.organization.id}\nToken expires: ${
      expiryText(access.expiresAt)
    }\n`,
  );
  context.io.err(context.io.errStyle.dim(`(session from ${source})`) + "\n");
  return EXIT_OK;
}

/** Time limit of the revocation request: logout must not hang on a dead server. */
export const REVOKE_TIMEOUT_MS = 5_000;

/**
 * Revokes the current session's refresh token at the server (best effort, short time-out,
 * says so when it failed), then deletes the session; the file goes when none remains.
 */
export async function logout(context: CliContext, options: { json?: boolean }): Promise<number> {
  const io = context.io;
  const envSet = tokenFromEnv(context) !== null;
  const location = credentialsLocation(context.home);
  const file = await readCredentials(location);
  const session = file ? currentSession(file, context.apiUrl) : null;
  const warnEnv = () => {
    if (envSet) {
      io.err(
        `${
          io.errStyle.yellow("Warning:")
        } ${TOKEN_ENV} is still set; commands keep using that token until you unset it.\n`,
      );
    }
  };
  if (!session) {
    io.err(
      `Not logged in${
        context.apiUrlExplicit ? ` to ${context.apiUrl}` : ""
      }; nothing to log out of.\n`,
    );
    warnEnv();
    if (options.json) {
      io.out(`${JSON.stringify({ logged_out: false, revoked: false, api_url: context.apiUrl })}\n`);
    }
    return EXIT_OK;
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
    if (!(error instanceof CliError)) throw error;
    revokeProblem = error.message;
  }

  const remaining = await updateCredentials(location, (latest) => {
    const next = withoutSession(latest, session.api_url, session.organization.id);
    const existed = findSession(latest, session.api_url, session.organization.id) !== null;
    return { write: existed ? next : undefined, result: next };
  });

  if (revoked) {
    io.err(`Revoked the session at ${hostOf(context.apiUrl)}.\n`);
  } else {
    io.err(
      `${
        io.errStyle.yellow("Warning:")
      } could not revoke the session at the server (${revokeProblem}); ` +
        "it was deleted here and ends at the server when its refresh token expires.\n",
    );
  }
  io.err(
    `Logged out ${session.user.email} from organization ${session.organization.name} (${session.organization.id}).\n`,
  );
  const next = currentSession(remaining, context.apiUrl);
  if (next) {
    io.err(
      `Now using ${next.user.email} in organization ${next.organization.name} (${next.organization.id}).\n`,
    );
  }
  if (remaining.sessions.length === 0) io.err(`Removed ${location.file}.\n`);
  warnEnv();
  if (options.json) {
    io.out(
      `${
        JSON.stringify({
          logged_out: true,
          revoked,
          revoke_error: revokeProblem,
          api_url: context.apiUrl,
          email: session.user.email,
          organization: session.organization,
          credentials_file_removed: remaining.sessions.length === 0,
        })
      }\n`,
    );
  }
  return EXIT_OK;
}

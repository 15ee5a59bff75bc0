/** `whoami` and `logout` on a terminal: the operations' results in words or as JSON. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { hostOf } from "../../api/http.ts";
import { expiryText, logout, type LogoutResult, whoami } from "../../auth/account.ts";
import { loginCommand, TOKEN_ENV } from "../../auth/session.ts";
import { describeSession, selectorFlags } from "../../auth/sessions.ts";

/**
 * `cloudsignal whoami`: the three documented lines exactly as documented, then the
 * organization's name, the username and the API URL; or JSON.
 */
export async function runWhoami(context: CliContext, flags: { json?: boolean }): Promise<number> {
  const me = await whoami(context);
  const { io } = context;
  if (flags.json) {
    printJson(io, me);
    return EXIT_OK;
  }
  const expires = me.token_expires_at === null ? null : new Date(me.token_expires_at);
  const lines = [
    `Email: ${me.email}`,
    `Organization: ${me.organization.id}`,
    `Token expires: ${expiryText(expires)}`,
    `Organization name: ${me.organization.name}`,
    ...(me.username === null
      ? []
      : [`Username: ${me.username} (MQTT username ${me.username}@${me.organization.short_id})`]),
    `API URL: ${me.api_url}`,
  ];
  io.out(`${lines.join("\n")}\n`);
  const source = me.source === "env" ? TOKEN_ENV : me.credentials_file ?? "";
  io.err(io.errStyle.dim(`(session from ${source})`) + "\n");
  return EXIT_OK;
}

function logoutJson(result: LogoutResult) {
  return {
    logged_out: result.logged_out,
    revoked: result.revoked,
    revoke_error: result.revoke_error,
    api_url: result.api_url,
    email: result.session?.email ?? null,
    organization: result.session?.organization ?? null,
    now_current: result.now_current,
    skipped: result.skipped,
    credentials_file_removed: result.credentials_file_removed,
  };
}

function sayNowCurrent(context: CliContext, result: LogoutResult): void {
  const { io } = context;
  for (const { session, check } of result.skipped) {
    const why = check.state === "gone"
      ? `its server says it is over: ${check.detail}`
      : `its server could not confirm it: ${check.detail}`;
    io.err(
      `Not switching to ${describeSession(session)}; ${why}. Remove it with ` +
        `\`cloudsignal logout ${selectorFlags(session)}\`.\n`,
    );
  }
  if (result.now_current) {
    io.err(`Now current: ${describeSession(result.now_current)}.\n`);
    return;
  }
  const gone = result.skipped.filter(({ check }) => check.state === "gone");
  const usable = result.remaining.filter((session) =>
    !gone.some((skipped) =>
      skipped.session.api_url === session.api_url &&
      skipped.session.organization.id === session.organization.id
    )
  );
  if (usable.length === 0) {
    io.err(`No session is current now. Log in with \`${loginCommand(result.api_url)}\`.\n`);
    return;
  }
  io.err(
    `No session is current now. Stored sessions:\n${
      usable.map((session) => `  ${describeSession(session)}\n`).join("")
    }Use one with \`cloudsignal auth switch\`, or log in with \`${
      loginCommand(result.api_url)
    }\`.\n`,
  );
}

/** `cloudsignal logout`: what was revoked and deleted, and which session is current now. */
export async function runLogout(
  context: CliContext,
  flags: { json?: boolean; org?: string },
): Promise<number> {
  const { io } = context;
  const result = await logout(context, { organization: flags.org });
  const warnEnv = () => {
    if (result.env_token_set) {
      io.err(
        `${
          io.errStyle.yellow("Warning:")
        } ${TOKEN_ENV} is still set; commands keep using that token until you unset it.\n`,
      );
    }
  };
  if (!result.session) {
    io.err(
      `Not logged in${
        context.apiUrlExplicit ? ` to ${context.apiUrl}` : ""
      }; nothing to log out of.\n`,
    );
    if (result.now_current) io.err(`Current: ${describeSession(result.now_current)}.\n`);
    warnEnv();
    if (flags.json) printJson(io, logoutJson(result));
    return EXIT_OK;
  }
  if (result.revoked) {
    io.err(`Revoked the session at ${hostOf(result.api_url)}.\n`);
  } else {
    io.err(
      `${
        io.errStyle.yellow("Warning:")
      } could not revoke the session at the server (${result.revoke_error}); ` +
        "it was deleted here and ends at the server when its refresh token expires.\n",
    );
  }
  const { email, organization } = result.session;
  io.err(`Logged out ${email} from organization ${organization.name} (${organization.id}).\n`);
  sayNowCurrent(context, result);
  if (result.credentials_file_removed) io.err(`Removed ${result.credentials_file}.\n`);
  warnEnv();
  if (flags.json) printJson(io, logoutJson(result));
  return EXIT_OK;
}

/** `whoami` and `logout` on a terminal: the operations' results in words or as JSON. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { hostOf } from "../../api/http.ts";
import { expiryText, logout, whoami } from "../../auth/account.ts";
import { TOKEN_ENV } from "../../auth/session.ts";

/** `cloudsignal whoami`: the three documented lines, or JSON. */
export async function runWhoami(context: CliContext, flags: { json?: boolean }): Promise<number> {
  const me = await whoami(context);
  const { io } = context;
  if (flags.json) {
    io.out(`${JSON.stringify(me)}\n`);
    return EXIT_OK;
  }
  const expires = me.token_expires_at === null ? null : new Date(me.token_expires_at);
  io.out(
    `Email: ${me.email}\nOrganization: ${me.organization.id}\nToken expires: ${
      expiryText(expires)
    }\n`,
  );
  const source = me.source === "env" ? TOKEN_ENV : me.credentials_file ?? "";
  io.err(io.errStyle.dim(`(session from ${source})`) + "\n");
  return EXIT_OK;
}

/** `cloudsignal logout`: what was revoked and deleted, and which session is current now. */
export async function runLogout(context: CliContext, flags: { json?: boolean }): Promise<number> {
  const { io } = context;
  const result = await logout(context);
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
    warnEnv();
    if (flags.json) {
      io.out(`${JSON.stringify({ logged_out: false, revoked: false, api_url: context.apiUrl })}\n`);
    }
    return EXIT_OK;
  }
  if (result.revoked) {
    io.err(`Revoked the session at ${hostOf(context.apiUrl)}.\n`);
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
  if (result.now_current) {
    const next = result.now_current;
    io.err(
      `Now using ${next.email} in organization ${next.organization.name} (${next.organization.id}).\n`,
    );
  }
  if (result.credentials_file_removed) io.err(`Removed ${result.credentials_file}.\n`);
  warnEnv();
  if (flags.json) {
    io.out(
      `${
        JSON.stringify({
          logged_out: true,
          revoked: result.revoked,
          revoke_error: result.revoke_error,
          api_url: context.apiUrl,
          email,
          organization,
          credentials_file_removed: result.credentials_file_removed,
        })
      }\n`,
    );
  }
  return EXIT_OK;
}

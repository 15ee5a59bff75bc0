/** `cloudsignal auth status`: every stored session in words, or as JSON. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_AUTH, EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { step } from "../../core/context.ts";
import { authStatus, type SessionStatus } from "../../auth/sessions.ts";

/** `in 47 minutes`, `in 3 hours`, `in 14 days`, `5 minutes ago`. */
export function relativeTime(at: Date, now = Date.now()): string {
  const seconds = (at.getTime() - now) / 1000;
  const size = Math.abs(seconds);
  if (size < 60) return seconds >= 0 ? "in less than a minute" : "less than a minute ago";
  const [count, unit] = size < 90 * 60
    ? [Math.round(size / 60), "minute"]
    : size < 48 * 3600
    ? [Math.round(size / 3600), "hour"]
    : [Math.round(size / 86_400), "day"];
  const amount = `${count} ${unit}${count === 1 ? "" : "s"}`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** `2030-01-15 10:00 UTC`. */
export function utcTime(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function when(iso: string): string {
  const at = new Date(iso);
  return `${relativeTime(at)} (${utcTime(at)})`;
}

function accessTokenLine(session: SessionStatus): string {
  const iso = session.access_token_expires_at;
  if (iso === null) return "expiry unknown (the server did not say)";
  if (Date.parse(iso) > Date.now()) return `expires ${when(iso)}`;
  return session.refreshable && session.login_needed.when !== "now"
    ? `expired ${relativeTime(new Date(iso))}; renewed on the next command`
    : `expired ${relativeTime(new Date(iso))}`;
}

function loginLine(session: SessionStatus): string {
  const needed = session.login_needed;
  switch (needed.when) {
    case "now":
      return `needed now: run \`${session.login_command}\``;
    case "unknown":
      return "when the server ends the session (it did not say when its refresh token expires)";
    case "at":
      return needed.because === "refresh_token_expires"
        ? `${when(needed.at)}, when the refresh token expires`
        : `${when(needed.at)}, when the access token expires (no refresh token)`;
  }
}

function block(session: SessionStatus, file: string): string {
  const marks = [
    session.current ? "current" : null,
    !session.current && session.current_for_api_url
      ? `used with --api-url ${session.api_url}`
      : null,
  ].filter((mark) => mark !== null);
  const head = `${
    session.current ? "* " : "  "
  }${session.organization.name} (${session.organization.id}) at ${session.api_url}${
    marks.length ? `  [${marks.join("; ")}]` : ""
  }`;
  const rows: [string, string][] = [
    [
      "User",
      `${session.email}${
        session.username === null
          ? ""
          : ` (MQTT username ${session.username}@${session.organization.short_id})`
      }`,
    ],
    ["Token", `stored in ${file}`],
    ["Access token", accessTokenLine(session)],
    ["New login", loginLine(session)],
    ["Scope", session.scope ?? "none recorded"],
  ];
  if (session.check) rows.push(["Server says", `${session.check.state}: ${session.check.detail}`]);
  return [head, ...rows.map(([label, value]) => `    ${`${label}:`.padEnd(14)}${value}`)].join(
    "\n",
  );
}

/** Prints every stored session (exit 4 when there is none and CLOUDSIGNAL_TOKEN is unset). */
export async function runAuthStatus(
  context: CliContext,
  flags: { json?: boolean; check?: boolean },
): Promise<number> {
  const { io } = context;
  const status = flags.check
    ? await step(context, "Asking each session's server", () => authStatus(context, flags))
    : await authStatus(context, flags);
  if (flags.json) {
    printJson(io, status);
    return status.sessions.length === 0 && status.env_token === null ? EXIT_AUTH : EXIT_OK;
  }
  const parts: string[] = [];
  if (status.env_token) {
    const expiry = status.env_token.expires_at;
    parts.push(
      [
        `* ${status.env_token.source} at ${status.env_token.api_url}  [current: commands use it instead of any stored session]`,
        `    ${"Token:".padEnd(14)}from the environment variable ${status.env_token.source}`,
        `    ${"Access token:".padEnd(14)}${
          expiry === null ? "expiry unknown (not a JWT with exp)" : `expires ${when(expiry)}`
        }`,
      ].join("\n"),
    );
  }
  for (const session of status.sessions) parts.push(block(session, status.credentials_file));
  if (parts.length === 0) {
    io.err("Not logged in: no session is stored. Run `cloudsignal login`.\n");
    return EXIT_AUTH;
  }
  io.out(`${parts.join("\n\n")}\n`);
  const noneCurrent = !status.sessions.some((session) => session.current);
  if (status.sessions.length > 0 && noneCurrent && !status.env_token) {
    io.err(
      `No stored session is current for ${status.api_url}; choose one with \`cloudsignal auth switch\`.\n`,
    );
  } else if (status.sessions.length > 1) {
    io.err("Change the current session with `cloudsignal auth switch`.\n");
  }
  return EXIT_OK;
}

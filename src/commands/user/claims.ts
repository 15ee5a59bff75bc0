/** `user claims set|show|unset` on a terminal. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { printable, quoted } from "../../core/printable.ts";
import type { UserClaims } from "../../api/openapi_types.ts";
import {
  checkClaimKey,
  checkClaimValue,
  setClaim,
  showClaims,
  unsetClaim,
} from "../../claims/user_claims.ts";

/** `user claims set <user> --key k --value v`. */
export async function runSetClaim(
  context: CliContext,
  user: string,
  key: string,
  value: string,
  flags: { json?: boolean } = {},
): Promise<number> {
  checkClaimKey(key, "--key");
  checkClaimValue(value, "--value");
  const claims = await setClaim(context, { user, key, value });
  if (flags.json) printJson(context.io, claims);
  else {
    context.io.err(
      `Set claim "${key}" of ${printable(claims.username)} (${printable(claims.user_id)}).\n`,
    );
  }
  return EXIT_OK;
}

/** `user claims unset <user> --key k`. */
export async function runUnsetClaim(
  context: CliContext,
  user: string,
  key: string,
  flags: { json?: boolean } = {},
): Promise<number> {
  checkClaimKey(key, "--key");
  const claims = await unsetClaim(context, { user, key });
  if (flags.json) printJson(context.io, claims);
  else {
    context.io.err(
      `Removed claim "${key}" of ${printable(claims.username)} (${printable(claims.user_id)}).\n`,
    );
  }
  return EXIT_OK;
}

/** The claims as an aligned two-column table. */
export function claimsTable(claims: UserClaims): string {
  const entries = Object.entries(claims.claims)
    .map(([key, value]) => [printable(key, 64), value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return `${printable(claims.username)} has no claims.\n`;
  const width = Math.max(3, ...entries.map(([key]) => key.length));
  const lines = [`${"KEY".padEnd(width)}  VALUE`];
  for (const [key, value] of entries) lines.push(`${key.padEnd(width)}  ${quoted(value)}`);
  return `${lines.join("\n")}\n`;
}

/** `user claims show <user>`. */
export async function runShowClaims(
  context: CliContext,
  user: string,
  flags: { json?: boolean },
): Promise<number> {
  const claims = await showClaims(context, { user });
  if (flags.json) printJson(context.io, claims);
  else context.io.out(claimsTable(claims));
  return EXIT_OK;
}

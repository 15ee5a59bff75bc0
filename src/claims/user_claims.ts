/**
 * `user claims set|show|unset`: identity claims that `{$self}` rules bind topics to. A value
 * with `/`, `+`, `#` or NUL is refused before anything is written when a rule of the live
 * policy puts that claim into a topic: there it could never match safely.
 */

import type { CliContext } from "../cli/program.ts";
import { CliError, UsageError } from "../cli/errors.ts";
import { EXIT_OK } from "../cli/exit_codes.ts";
import { withProgress } from "../cli/progress.ts";
import { ApiClient } from "../api/client.ts";
import type { UserClaims } from "../api/openapi_types.ts";
import { CLAIM_NAME } from "../acl/template.ts";
import { unsafeCharacter } from "../acl/match.ts";
import { policyUses } from "../acl/policy_uses.ts";
import { printable, quoted } from "../cli/printable.ts";

function checkKey(key: string): void {
  if (!CLAIM_NAME.test(key)) {
    throw new UsageError(
      `--key ${JSON.stringify(key)} is not a claim name: a letter or _, then letters, digits, _ ` +
        "or - (64 at most)",
    );
  }
}

function describeCharacter(character: string): string {
  return character === "\u0000" ? "NUL" : `'${character}'`;
}

/** `user claims set <user> --key k --value v`. */
export async function setClaim(
  context: CliContext,
  user: string,
  key: string,
  value: string,
): Promise<number> {
  checkKey(key);
  const client = new ApiClient(context);
  const unsafe = unsafeCharacter(value);
  if (unsafe !== null) {
    const live = await withProgress(context.io, "Checking the live policy", () => client.policy());
    const uses = policyUses(live.policy).claims.filter((use) =>
      use.claim === key && use.kind === "substituted"
    );
    if (uses.length > 0) {
      throw new CliError(
        `refusing to set claim "${key}" of ${user}: the value contains ${
          describeCharacter(unsafe)
        }, and ${uses.length === 1 ? "a rule puts" : "rules put"} this claim into a topic, ` +
          "where / + # and NUL could widen it (such a rule never matches); nothing was written",
        1,
        `Rules of revision ${live.revision} that use it:\n${
          uses.map((use) => `  ${use.path}: ${use.topic}`).join("\n")
        }`,
      );
    }
  }
  const claims = await withProgress(
    context.io,
    "Setting the claim",
    () => client.setClaim(user, key, value),
  );
  context.io.err(
    `Set claim "${key}" of ${printable(claims.username)} (${printable(claims.user_id)}).\n`,
  );
  return EXIT_OK;
}

/** `user claims unset <user> --key k`. */
export async function unsetClaim(context: CliContext, user: string, key: string): Promise<number> {
  checkKey(key);
  const client = new ApiClient(context);
  const claims = await withProgress(
    context.io,
    "Removing the claim",
    () => client.unsetClaim(user, key),
  );
  context.io.err(
    `Removed claim "${key}" of ${printable(claims.username)} (${printable(claims.user_id)}).\n`,
  );
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
export async function showClaims(
  context: CliContext,
  user: string,
  flags: { json?: boolean },
): Promise<number> {
  const client = new ApiClient(context);
  const claims = await withProgress(context.io, "Fetching the claims", () => client.claims(user));
  context.io.out(flags.json ? `${quoted(claims)}\n` : claimsTable(claims));
  return EXIT_OK;
}

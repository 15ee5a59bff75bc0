/**
 * Identity claims, the values `{$self}` rules bind topics to, and the organization's users.
 * A value with `/`, `+`, `#` or NUL is refused before anything is written when a rule of the
 * live policy puts that claim into a topic: there it could never match safely.
 */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { OperationError, UsageError } from "../core/errors.ts";
import { ApiClient } from "../api/client.ts";
import type { User, UserClaims } from "../api/openapi_types.ts";
import { CLAIM_NAME } from "../acl/template.ts";
import { unsafeCharacter } from "../acl/match.ts";
import { policyUses } from "../acl/policy_uses.ts";

/** Checks a claim name; `UsageError` naming `argument` when it is not one. */
export function checkClaimKey(key: string, argument = "key"): void {
  if (!CLAIM_NAME.test(key)) {
    throw new UsageError(
      `${argument} ${JSON.stringify(key)} is not a claim name: a letter or _, then letters, ` +
        "digits, _ or - (64 at most)",
      undefined,
      argument,
    );
  }
}

/**
 * Checks a claim value; an empty one is refused (`UsageError` naming `argument`): a rule never
 * matches with it, in a topic or as a grant, so it could only hide a mistake.
 */
export function checkClaimValue(value: string, argument = "value"): void {
  if (value === "") {
    throw new UsageError(
      `${argument} is empty: an empty claim value never matches any rule`,
      "Give a value, or remove the claim with `cloudsignal user claims unset <user> --key <key>`.",
      argument,
    );
  }
}

function describeCharacter(character: string): string {
  return character === "\u0000" ? "NUL" : `'${character}'`;
}

/** A claim change: which user, which claim. */
export interface ClaimInput {
  /** The user's id or username. */
  user: string;
  key: string;
}

/**
 * Sets a claim. A value that could widen a topic is refused, naming the rules that use the
 * claim, when the live policy substitutes it into a topic; nothing is written then.
 */
export async function setClaim(
  context: OperationContext,
  input: ClaimInput & { value: string },
): Promise<UserClaims> {
  checkClaimKey(input.key);
  checkClaimValue(input.value);
  const client = new ApiClient(context);
  const unsafe = unsafeCharacter(input.value);
  if (unsafe !== null) {
    const live = await step(context, "Checking the live policy", () => client.policy());
    const uses = policyUses(live.policy).claims.filter((use) =>
      use.claim === input.key && use.kind === "substituted"
    );
    if (uses.length > 0) {
      throw new OperationError(
        `refusing to set claim "${input.key}" of ${input.user}: the value contains ${
          describeCharacter(unsafe)
        }, and ${uses.length === 1 ? "a rule puts" : "rules put"} this claim into a topic, ` +
          "where / + # and NUL could widen it (such a rule never matches); nothing was written",
        `Rules of revision ${live.revision} that use it:\n${
          uses.map((use) => `  ${use.path}: ${use.topic}`).join("\n")
        }`,
        "failed",
        { argument: "value" },
      );
    }
  }
  return await step(
    context,
    "Setting the claim",
    () => client.setClaim(input.user, input.key, input.value),
  );
}

/** Removes a claim. */
export async function unsetClaim(
  context: OperationContext,
  input: ClaimInput,
): Promise<UserClaims> {
  checkClaimKey(input.key);
  const client = new ApiClient(context);
  return await step(context, "Removing the claim", () => client.unsetClaim(input.user, input.key));
}

/** A user's claims. */
export function showClaims(
  context: OperationContext,
  input: { user: string },
): Promise<UserClaims> {
  const client = new ApiClient(context);
  return step(context, "Fetching the claims", () => client.claims(input.user));
}

/** The organization's users. */
export function listUsers(context: OperationContext): Promise<User[]> {
  const client = new ApiClient(context);
  return step(context, "Fetching the users", () => client.users());
}

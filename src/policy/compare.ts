/** Comparing a policy with the organization's live policy or one of its revisions. */

import type { OperationContext } from "../core/context.ts";
import type { Finding, Policy } from "../acl/types.ts";
import { type DecisionChange, decisionChanges, diffPolicies, type PolicyDiff } from "./diff.ts";
import { checkPolicy, type PolicyInput, usablePolicy } from "./source.ts";
import { getPolicy, type PolicyOrganization } from "./read.ts";

/** Input of `comparePolicy`. */
export interface CompareInput {
  policy: PolicyInput;
  /** Compare with this revision instead of the live policy. */
  revision?: number;
}

/** What differs between a policy and the one it was compared with. */
export interface PolicyComparison {
  /** The candidate's name (file path, `<stdin>`, or the inline name). */
  name: string;
  /** The revision compared with, and whether it is the live one. */
  against: { revision: number; live: boolean; organization: PolicyOrganization };
  /** Nothing differs, not even the order of entries. */
  identical: boolean;
  diff: PolicyDiff;
  /** Test decisions that differ; null when the other policy cannot be compiled here. */
  testChanges: DecisionChange[] | null;
  /** The candidate's local warnings. */
  warnings: Finding[];
  /** The revision the candidate names in `$revision` (its base), or null. */
  fileRevision: number | null;
  /** The policy compared with. */
  base: Policy;
}

/**
 * Compares a policy with the live one or `revision`. `PolicyInvalidError` when the
 * candidate has errors (a diff of a policy that cannot be pushed would mislead).
 */
export async function comparePolicy(
  context: OperationContext,
  input: CompareInput,
): Promise<PolicyComparison> {
  const loaded = usablePolicy(await checkPolicy(input.policy));
  const other = await getPolicy(context, { revision: input.revision });
  const diff = diffPolicies(other.policy, loaded.policy);
  return {
    name: loaded.name,
    against: { revision: other.revision, live: other.live, organization: other.organization },
    identical: diff.identical,
    diff,
    testChanges: decisionChanges(other.policy, loaded.policy),
    warnings: loaded.warnings,
    fileRevision: loaded.revision,
    base: other.policy,
  };
}

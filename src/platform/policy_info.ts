/**
 * What the platform needs to know about a policy beyond evaluating it: which rules put
 * which claims into topics (to refuse unsafe claim values) and which claims and user
 * selectors the server stage of validation checks against the organization.
 */

import {
  type ClaimUse,
  type CompiledPolicy,
  compilePolicy,
  type Policy,
  policyUses,
  type SelectorUse,
} from "../acl/mod.ts";

export { type ClaimUse, policyUses, type SelectorUse };

/** A stored policy, compiled once for its revision. */
export interface PolicyState {
  revision: number;
  policy: Policy;
  compiled: CompiledPolicy;
  claims: ClaimUse[];
  selectors: SelectorUse[];
}

/** Compiles a stored (already validated) policy with what the platform needs about it. */
export function policyState(revision: number, policy: Policy): PolicyState {
  return { revision, policy, compiled: compilePolicy(policy), ...policyUses(policy) };
}

/**
 * Replacing the organization's policy in two steps: `planPolicyUpdate` checks the new policy
 * (valid, its tests pass), fetches the live one and says what would change and whether the
 * base revision is still live; `applyPolicyUpdate` writes it with `If-Match` on that base,
 * so a change someone else made in between is never overwritten.
 */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { TestsFailedError } from "./errors.ts";
import { ApiClient, RevisionConflictError } from "../api/client.ts";
import type { Finding, Policy } from "../acl/types.ts";
import { runPolicyTests, type TestRunResult } from "../acl/policy_tests.ts";
import { checkPolicy, type PolicyInput, usablePolicy } from "./source.ts";
import { type DecisionChange, decisionChanges, diffPolicies, type PolicyDiff } from "./diff.ts";
import { fetchedRevision, recordFetchedRevision } from "./fetched_revisions.ts";
import type { PolicyOrganization } from "./read.ts";

/** The revision an update is checked against: a number, or `*` for whatever is live. */
export type BaseRevision = number | "*";

/** Where the base revision came from. */
export type BaseSource = "explicit" | "force" | "recorded" | "live";

/** What an update would do, checked and ready to apply. */
export interface UpdatePlan {
  /** The new policy's name (file path, `<stdin>`, or the inline name). */
  name: string;
  policy: Policy;
  /** The local stage's warnings (there are no errors in a plan). */
  warnings: Finding[];
  tests: TestRunResult;
  organization: PolicyOrganization;
  live: { revision: number; policy: Policy };
  base: BaseRevision;
  baseSource: BaseSource;
  /** The live revision moved past the base: applying would be refused. */
  conflict: boolean;
  diff: PolicyDiff;
  /** Test decisions that differ; null when the live policy cannot be compiled here. */
  testChanges: DecisionChange[] | null;
}

/** Input of `planPolicyUpdate`. */
export interface PlanInput {
  policy: PolicyInput;
  /** The revision the policy is based on; by default the one last fetched, else the live one. */
  baseRevision?: BaseRevision;
}

/**
 * Checks a policy and compares it with the live one. `PolicyInvalidError` when it has
 * errors, `TestsFailedError` when its tests fail (nothing is fetched then).
 */
export async function planPolicyUpdate(
  context: OperationContext,
  input: PlanInput,
): Promise<UpdatePlan> {
  const loaded = usablePolicy(await checkPolicy(input.policy));
  const tests = runPolicyTests(loaded.policy, loaded.compiled, loaded.lineOf);
  if (tests.failed > 0) throw new TestsFailedError(loaded.name, tests);

  const client = new ApiClient(context);
  const [live, organization] = await step(
    context,
    "Fetching the live policy",
    () => Promise.all([client.policy(), client.organization()]),
  );
  let base: BaseRevision;
  let baseSource: BaseSource;
  if (input.baseRevision === "*") {
    [base, baseSource] = ["*", "force"];
  } else if (input.baseRevision !== undefined) {
    [base, baseSource] = [input.baseRevision, "explicit"];
  } else {
    const recorded = await fetchedRevision(context.home, context.apiUrl, organization.id);
    [base, baseSource] = recorded ? [recorded.revision, "recorded"] : [live.revision, "live"];
  }
  return {
    name: loaded.name,
    policy: loaded.policy,
    warnings: loaded.warnings,
    tests,
    organization,
    live,
    base,
    baseSource,
    conflict: base !== "*" && base !== live.revision,
    diff: diffPolicies(live.policy, loaded.policy),
    testChanges: decisionChanges(live.policy, loaded.policy),
  };
}

/** The outcome of an applied update. */
export interface UpdateResult {
  revision: number;
  previous_revision: number;
  organization: PolicyOrganization;
  /** What the server found (warnings of both stages). */
  findings: Finding[];
}

/**
 * Writes the planned policy if the live revision is still the plan's base
 * (`RevisionConflictError` otherwise; nothing is written). Never retried.
 */
export async function applyPolicyUpdate(
  context: OperationContext,
  plan: UpdatePlan,
): Promise<UpdateResult> {
  if (plan.conflict) throw new RevisionConflictError(plan.base, plan.live.revision);
  const client = new ApiClient(context);
  const written = await step(
    context,
    "Updating the policy",
    () => client.updatePolicy(plan.policy, plan.base),
  );
  await recordFetchedRevision(context.home, context.apiUrl, plan.organization.id, written.revision);
  return {
    revision: written.revision,
    previous_revision: plan.live.revision,
    organization: plan.organization,
    findings: written.findings ?? [],
  };
}

/**
 * Replacing the organization's policy in two steps: `planPolicyUpdate` checks the new policy
 * (valid, within the API's size limit, its tests pass), fetches the live one, runs the
 * server stage of validation, and says what would change and whether the base revision is
 * still live; `applyPolicyUpdate` writes it with `If-Match` on that base, so a change
 * someone else made in between is never overwritten. The base is the caller's
 * (`baseRevision`) or the one the policy's own text names in `$revision`, never a revision
 * read elsewhere.
 */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { OperationError } from "../core/errors.ts";
import { BaseUnknownError, PolicyConflictError, TestsFailedError } from "./errors.ts";
import { ApiClient, RevisionConflictError } from "../api/client.ts";
import type { Finding, Policy } from "../acl/types.ts";
import type { PositionNode } from "../acl/json_positions.ts";
import { runPolicyTests, type TestRunResult } from "../acl/policy_tests.ts";
import { checkPolicy, type PolicyInput, usablePolicy } from "./source.ts";
import { type DecisionChange, decisionChanges, diffPolicies, type PolicyDiff } from "./diff.ts";
import { API_BODY_LIMIT_BYTES, apiBodyBytes, bodySizeMessage } from "./body_size.ts";
import { placeFindings, serverStageFindings } from "./validate.ts";
import type { PolicyOrganization } from "./read.ts";
import { checkRevision } from "./read.ts";

/** The revision an update is checked against: a number, or `*` for whatever is live. */
export type BaseRevision = number | "*";

/**
 * Where the base revision came from: given by the caller (`explicit`, `force` for `*`) or
 * named by the policy's own `$revision` (`file`).
 */
export type BaseSource = "explicit" | "force" | "file";

/** What an update would do, checked and ready to apply. */
export interface UpdatePlan {
  /** The new policy's name (file path, `<stdin>`, or the inline name). */
  name: string;
  /** The policy to send (without `$revision`). */
  policy: Policy;
  /** The local stage's warnings (there are no errors in a plan). */
  warnings: Finding[];
  /**
   * The server stage's findings, placed in the input; errors among them (a server that
   * checks more than this CLI) mean the write would be refused.
   */
  serverFindings: Finding[];
  tests: TestRunResult;
  organization: PolicyOrganization;
  live: { revision: number; policy: Policy };
  /** The base the write is checked against; null when nothing names one. */
  base: BaseRevision | null;
  baseSource: BaseSource | null;
  /** The revision the policy's text names in `$revision`, or null. */
  fileRevision: number | null;
  /** The live revision moved past the base: applying would be refused. */
  conflict: boolean;
  diff: PolicyDiff;
  /** Test decisions that differ; null when the live policy cannot be compiled here. */
  testChanges: DecisionChange[] | null;
  /**
   * On a conflict, what changed from the base revision to the live one (the changes the
   * policy has not seen); null otherwise or when the base revision cannot be fetched.
   */
  sinceBase: PolicyDiff | null;
  /** Bytes of the body the API will receive. */
  bodyBytes: number;
  /** Where each value is in the input, to place the server's findings. */
  positions: PositionNode | null;
  /** The policy's text as read (findings are placed in it). */
  text: string;
  /**
   * The file the policy came from, so a front end can record the new revision in it
   * (`recordRevisionInFile`); null for standard input and text.
   */
  file: string | null;
}

/** Input of `planPolicyUpdate`. */
export interface PlanInput {
  policy: PolicyInput;
  /** The revision the policy is based on; by default the one its `$revision` names. */
  baseRevision?: BaseRevision;
}

function baseOf(
  input: PlanInput,
  fileRevision: number | null,
): { base: BaseRevision | null; baseSource: BaseSource | null } {
  if (input.baseRevision === "*") return { base: "*", baseSource: "force" };
  if (input.baseRevision !== undefined) {
    checkRevision(input.baseRevision, "baseRevision");
    return { base: input.baseRevision, baseSource: "explicit" };
  }
  if (fileRevision !== null) return { base: fileRevision, baseSource: "file" };
  return { base: null, baseSource: null };
}

async function changesSince(
  client: ApiClient,
  base: number,
  live: Policy,
): Promise<PolicyDiff | null> {
  try {
    return diffPolicies((await client.policy(base)).policy, live);
  } catch (error) {
    if (error instanceof OperationError) return null;
    throw error;
  }
}

/**
 * Checks a policy and compares it with the live one. `PolicyInvalidError` when it has
 * errors, `TestsFailedError` when its tests fail, `too_large` when the API would refuse its
 * size (nothing is fetched then). A missing or stale base is not an error here: the plan
 * says so (`base`, `conflict`), so the changes can still be shown.
 */
export async function planPolicyUpdate(
  context: OperationContext,
  input: PlanInput,
): Promise<UpdatePlan> {
  const loaded = usablePolicy(await checkPolicy(input.policy));
  const { base, baseSource } = baseOf(input, loaded.revision);
  const tests = runPolicyTests(loaded.policy, loaded.compiled, loaded.lineOf);
  if (tests.failed > 0) throw new TestsFailedError(loaded.name, tests);
  const bodyBytes = apiBodyBytes(loaded.policy);
  if (bodyBytes > API_BODY_LIMIT_BYTES) {
    throw new OperationError(
      `Nothing was sent: ${bodySizeMessage(bodyBytes)}.`,
      undefined,
      "too_large",
    );
  }

  const client = new ApiClient(context);
  const [live, organization, serverFindings] = await step(
    context,
    "Fetching the live policy",
    () =>
      Promise.all([
        client.policy(),
        client.organization(),
        serverStageFindings(context, loaded.policy, loaded.positions),
      ]),
  );
  const conflict = typeof base === "number" && base !== live.revision;
  const sinceBase = conflict
    ? await step(
      context,
      `Fetching revision ${base}`,
      () => changesSince(client, base as number, live.policy),
    )
    : null;
  return {
    name: loaded.name,
    policy: loaded.policy,
    warnings: loaded.warnings,
    serverFindings,
    tests,
    organization,
    live,
    base,
    baseSource,
    fileRevision: loaded.revision,
    conflict,
    diff: diffPolicies(live.policy, loaded.policy),
    testChanges: decisionChanges(live.policy, loaded.policy),
    sinceBase,
    bodyBytes,
    positions: loaded.positions,
    text: loaded.text,
    file: "path" in input.policy && input.policy.path !== "-" ? input.policy.path : null,
  };
}

/** The outcome of an applied update. */
export interface UpdateResult {
  revision: number;
  previous_revision: number;
  organization: PolicyOrganization;
  /** What the server found (warnings of both stages), placed in the input. */
  findings: Finding[];
}

/**
 * Writes the planned policy if the live revision is still the plan's base
 * (`PolicyConflictError` otherwise, `BaseUnknownError` without a base; nothing is written
 * then). Never retried.
 */
export async function applyPolicyUpdate(
  context: OperationContext,
  plan: UpdatePlan,
): Promise<UpdateResult> {
  if (plan.base === null) throw new BaseUnknownError(plan.name, plan.live.revision);
  if (plan.conflict) {
    throw new PolicyConflictError(plan.name, plan.base as number, plan.live.revision);
  }
  const client = new ApiClient(context);
  const base = plan.base;
  let written;
  try {
    written = await step(
      context,
      "Updating the policy",
      () => client.updatePolicy(plan.policy, base),
    );
  } catch (error) {
    if (error instanceof RevisionConflictError && typeof base === "number") {
      throw new PolicyConflictError(plan.name, base, error.current);
    }
    throw error;
  }
  return {
    revision: written.revision,
    previous_revision: plan.live.revision,
    organization: plan.organization,
    findings: placeFindings(written.findings ?? [], plan.positions),
  };
}

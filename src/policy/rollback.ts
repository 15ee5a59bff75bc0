/**
 * Rolling back: an earlier revision planned as an update of the live policy, based on the
 * live revision at the time it was fetched, so a change made in between is never lost.
 */

import type { OperationContext } from "../core/context.ts";
import type { Finding } from "../acl/types.ts";
import { getPolicy } from "./read.ts";
import { formatJson } from "../core/json_text.ts";
import { planPolicyUpdate, type UpdatePlan } from "./update.ts";

/** Input of `planRollback`. */
export interface RollbackInput {
  /** The revision to write back. */
  revision: number;
}

/**
 * Fetches `revision` and plans writing it back (checked and tested like any update, named
 * `revision N` in messages). Apply it with `applyPolicyUpdate`.
 */
export async function planRollback(
  context: OperationContext,
  input: RollbackInput,
): Promise<UpdatePlan> {
  const earlier = await getPolicy(context, { revision: input.revision });
  const plan = await planPolicyUpdate(context, {
    policy: { text: formatJson(earlier.policy), name: `revision ${earlier.revision}` },
    baseRevision: earlier.base_revision,
  });
  // Places in text made here mean nothing to anyone: findings keep only their paths.
  const unplaced = (findings: Finding[]) =>
    findings.map(({ line: _line, column: _column, ...rest }) => rest);
  return {
    ...plan,
    warnings: unplaced(plan.warnings),
    serverFindings: unplaced(plan.serverFindings),
    positions: null,
  };
}

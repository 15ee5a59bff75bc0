/** `acl rollback <revision>`: write an earlier revision back, with the checks of an update. */

import type { CliContext } from "../../cli/program.ts";
import { planRollback } from "../../policy/rollback.ts";
import { refusedWriteExit, reportingInvalidPolicy } from "./policy_errors.ts";
import { parseRevisionFlag } from "./flags.ts";
import { type PushFlags, showAndPush } from "./push.ts";

/** Shows what writing `revision` back changes, asks, and writes it. */
export async function runRollback(
  context: CliContext,
  revisionText: string,
  flags: PushFlags,
): Promise<number> {
  const { io } = context;
  const revision = parseRevisionFlag(revisionText, "<revision>")!;
  let plan;
  try {
    plan = await reportingInvalidPolicy(io, () => planRollback(context, { revision }));
  } catch (error) {
    return refusedWriteExit(io, error, `revision ${revision} does not pass this CLI's checks.`);
  }
  return await showAndPush(context, plan, flags, {
    question: `Roll the policy of ${plan.organization.name} back to revision ${revision}?`,
    command: "acl rollback",
  });
}

/**
 * `acl update`: validates and tests the file, shows what changes against the live policy
 * and what the server found, asks (on a terminal, unless `--yes`), and writes it only if the
 * live policy is still the revision the file is based on (its `$revision`, or
 * `--if-revision` / `--force`).
 */

import type { CliContext } from "../../cli/program.ts";
import { UsageError } from "../../core/errors.ts";
import { type BaseRevision, planPolicyUpdate } from "../../policy/update.ts";
import { refusedWriteExit, reportingInvalidPolicy } from "./policy_errors.ts";
import { parseRevisionFlag } from "./flags.ts";
import { type PushFlags, showAndPush } from "./push.ts";

/** Flags of `acl update`. */
export interface UpdateFlags extends PushFlags {
  ifRevision?: string;
  force?: boolean;
}

/** Runs `acl update <path>`. */
export async function runUpdate(
  context: CliContext,
  path: string,
  flags: UpdateFlags,
): Promise<number> {
  const { io } = context;
  if (flags.force && flags.ifRevision !== undefined) {
    throw new UsageError("--force and --if-revision exclude each other");
  }
  const explicit = parseRevisionFlag(flags.ifRevision, "--if-revision");
  const baseRevision: BaseRevision | undefined = flags.force ? "*" : explicit;
  let plan;
  try {
    plan = await reportingInvalidPolicy(
      io,
      () => planPolicyUpdate(context, { policy: { path }, baseRevision }),
    );
  } catch (error) {
    return refusedWriteExit(
      io,
      error,
      `fix the errors in ${path === "-" ? "<stdin>" : path} first.`,
    );
  }
  const name = plan.organization.name;
  return await showAndPush(context, plan, flags, {
    question: `Update the policy of ${name}?`,
    command: "acl update",
  });
}

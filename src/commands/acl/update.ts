/**
 * `acl update`: validates and tests the file, shows what changes against the live policy,
 * asks (on a terminal, unless `--yes`), and writes it only if the live policy is still the
 * revision the file was based on.
 */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_DENIED, EXIT_ERROR, EXIT_OK } from "../../cli/exit_codes.ts";
import { UsageError } from "../../core/errors.ts";
import { printable } from "../../core/printable.ts";
import { formatFinding } from "../../acl/findings.ts";
import { PolicyRejectedError, RevisionConflictError } from "../../api/client.ts";
import { applyPolicyUpdate, type BaseRevision, planPolicyUpdate } from "../../policy/update.ts";
import { formatDiff } from "../../policy/diff.ts";
import { PolicyInvalidError, TestsFailedError } from "../../policy/errors.ts";
import { reportingInvalidPolicy } from "./policy_errors.ts";
import { parseRevisionFlag } from "./flags.ts";

/** Flags of `acl update`. */
export interface UpdateFlags {
  yes?: boolean;
  dryRun?: boolean;
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
    if (error instanceof PolicyInvalidError) {
      io.err(`Nothing was sent: fix the errors in ${error.source} first.\n`);
      return EXIT_ERROR;
    }
    if (error instanceof TestsFailedError) {
      io.err(`${error.message}\n`);
      return EXIT_DENIED;
    }
    throw error;
  }
  if (plan.conflict) throw new RevisionConflictError(plan.base, plan.live.revision);
  const name = plan.organization.name;
  if (plan.diff.identical) {
    io.out(
      `The live policy of ${name} (revision ${plan.live.revision}) is already ${plan.name}; nothing to update.\n`,
    );
    return EXIT_OK;
  }
  const baseNote = plan.baseSource === "force"
    ? " (--force: whatever is live is replaced)"
    : plan.baseSource === "live"
    ? " (no fetched revision recorded: based on the live one)"
    : "";
  io.out(
    `Changes to the policy of ${name}, revision ${plan.live.revision}${baseNote}:\n` +
      formatDiff(plan.diff, plan.testChanges, io.outStyle),
  );
  for (const warning of plan.warnings) io.out(`${formatFinding(warning)}\n`);
  if (flags.dryRun) {
    io.out("Dry run: nothing was sent.\n");
    return EXIT_OK;
  }
  if (!flags.yes) {
    if (!io.stdinIsTerminal) {
      throw new UsageError(
        "acl update needs a confirmation, and standard input is not a terminal",
        "Pass --yes to update without asking (or --dry-run to only see the changes).",
      );
    }
    const answer = await io.ask(`Update the policy of ${name}? [y/N] `);
    if (!answer || !/^y(es)?$/i.test(answer.trim())) {
      io.err("Not updated.\n");
      return EXIT_ERROR;
    }
  }
  let written;
  try {
    written = await applyPolicyUpdate(context, plan);
  } catch (error) {
    if (error instanceof PolicyRejectedError) {
      for (const finding of error.detail.findings ?? []) {
        io.err(`${printable(formatFinding(finding), 2000)}\n`);
      }
      for (const failure of error.detail.tests?.failures ?? []) {
        io.err(`  test failed: ${printable(failure.name)}: ${printable(failure.explanation)}\n`);
      }
    }
    throw error;
  }
  io.out(
    `Updated the policy of ${name}: revision ${written.revision}.\n` +
      `The previous one stays available: cloudsignal acl get --revision ${written.previous_revision}\n`,
  );
  return EXIT_OK;
}

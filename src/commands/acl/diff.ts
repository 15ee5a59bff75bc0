/**
 * `acl diff`: a policy file against the live policy or a revision; exit 0 when they are the
 * same, 1 when they differ (like `git diff --exit-code`).
 */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_ERROR, EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { printable } from "../../core/printable.ts";
import { comparePolicy } from "../../policy/compare.ts";
import { reportingInvalidPolicy } from "./policy_errors.ts";
import { parseRevisionFlag } from "./flags.ts";
import { showDiff } from "./diff_output.ts";

/** Flags of `acl diff`. */
export interface DiffFlags {
  revision?: string;
  json?: boolean;
  full?: boolean;
}

/** Compares the file and prints the differences; exit 1 when there are any. */
export async function runDiff(
  context: CliContext,
  path: string,
  flags: DiffFlags,
): Promise<number> {
  const { io } = context;
  const revision = parseRevisionFlag(flags.revision, "--revision");
  const comparison = await reportingInvalidPolicy(
    io,
    () => comparePolicy(context, { policy: { path }, revision }),
  );
  const { against } = comparison;
  if (flags.json) {
    printJson(io, {
      file: comparison.name,
      base_revision: comparison.fileRevision,
      against,
      identical: comparison.identical,
      diff: comparison.diff,
      test_changes: comparison.testChanges,
    });
    return comparison.identical ? EXIT_OK : EXIT_ERROR;
  }
  const what = `revision ${against.revision}${against.live ? " (live)" : ""} of ${
    printable(against.organization.name)
  }`;
  if (comparison.identical) io.out(`No differences: ${comparison.name} is ${what}.\n`);
  else {
    io.out(`${comparison.name} against ${what}:\n`);
    await showDiff(io, comparison.diff, comparison.testChanges, { full: flags.full });
  }
  const base = comparison.fileRevision;
  if (against.live && base !== null && base !== against.revision) {
    io.err(
      `${comparison.name} is based on revision ${base}; the live policy changed since, so ` +
        "`acl update` would refuse it until you merge.\n",
    );
  }
  return comparison.identical ? EXIT_OK : EXIT_ERROR;
}

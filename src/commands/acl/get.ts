/** `acl get`: the policy as JSON on stdout or in a file, formatted on a terminal. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { UsageError } from "../../core/errors.ts";
import { type OutputFileResult, writeOutputFile } from "../../core/output_file.ts";
import { quoted } from "../../core/printable.ts";
import { getPolicy } from "../../policy/read.ts";
import { recordFetchedRevision } from "../../policy/fetched_revisions.ts";
import { formatPolicyJson } from "../../policy/json_format.ts";
import { parseRevisionFlag } from "./flags.ts";

/** Flags of `acl get`. */
export interface GetFlags {
  revision?: string;
  pretty?: boolean;
  compact?: boolean;
  output?: string;
  force?: boolean;
}

/** `acl get`: prints or writes the policy, and records the live revision fetched. */
export async function runGet(context: CliContext, flags: GetFlags): Promise<number> {
  if (flags.pretty && flags.compact) {
    throw new UsageError("--pretty and --compact exclude each other");
  }
  const revision = parseRevisionFlag(flags.revision, "--revision");
  const { io } = context;
  const fetched = await getPolicy(context, { revision });
  const toFile = flags.output !== undefined && flags.output !== "-";
  const pretty = flags.pretty || (!flags.compact && (toFile || io.stdoutIsTerminal));
  const text = pretty ? formatPolicyJson(fetched.policy) : `${quoted(fetched.policy)}\n`;
  let written: OutputFileResult | undefined;
  if (toFile) written = await writeOutputFile({ path: flags.output!, text, force: flags.force });
  else io.out(text);
  // Only the live policy is what later edits are based on; an earlier revision is for
  // reading or rolling back, which the last live fetch still guards.
  if (fetched.live) {
    await recordFetchedRevision(
      context.home,
      context.apiUrl,
      fetched.organization.id,
      fetched.revision,
    );
  }
  if (toFile || io.stderrIsTerminal) {
    io.err(
      `${
        written === "unchanged"
          ? `${flags.output} already holds `
          : toFile
          ? `Wrote ${flags.output}: `
          : ""
      }policy revision ${fetched.revision} of ` +
        `${fetched.organization.name}${fetched.live ? "" : " (an earlier revision)"}\n`,
    );
  }
  return EXIT_OK;
}

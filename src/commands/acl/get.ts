/** `acl get`: the policy as JSON on stdout or in a file, formatted on a terminal. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { OperationError, UsageError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/atomic_write.ts";
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
  const text = pretty ? formatPolicyJson(fetched.policy) : `${JSON.stringify(fetched.policy)}\n`;
  if (toFile) {
    try {
      await writeFileAtomic(flags.output!, text);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? "its directory does not exist"
        : error instanceof Error
        ? error.message
        : String(error);
      throw new OperationError(`cannot write ${flags.output}: ${reason}`);
    }
  } else io.out(text);
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
      `${toFile ? `Wrote ${flags.output}: ` : ""}policy revision ${fetched.revision} of ` +
        `${fetched.organization.name}${fetched.live ? "" : " (an earlier revision)"}\n`,
    );
  }
  return EXIT_OK;
}

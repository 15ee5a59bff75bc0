/** `acl validate`: the report of both stages, in the documented form or as JSON. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_ERROR, EXIT_OK } from "../../cli/exit_codes.ts";
import { validatePolicy } from "../../policy/validate.ts";
import { validationJson, validationReport } from "../../policy/report.ts";

/** Flags of `acl validate`. */
export interface ValidateFlags {
  localOnly?: boolean;
  json?: boolean;
}

/**
 * Validates a policy file and prints the report; exit 1 when there is any error. When the
 * server stage cannot run (not logged in, unreachable), the local report is printed and its
 * error (exit 4 or 5) ends the command: the validation asked for was not complete.
 */
export async function runValidate(
  context: CliContext,
  path: string,
  flags: ValidateFlags,
): Promise<number> {
  const { io } = context;
  const outcome = await validatePolicy(context, { policy: { path }, localOnly: flags.localOnly });
  const server = outcome.server === "checked" ? "checked" : "skipped";
  if (flags.json) io.out(validationJson(outcome.name, outcome.findings, outcome.counts, server));
  else io.out(validationReport(outcome.name, outcome.findings, outcome.counts, io.outStyle));
  if (outcome.serverError) throw outcome.serverError;
  if (outcome.server === "blocked" && !flags.json) {
    io.err("The server check did not run: fix the errors above first.\n");
  }
  return outcome.valid ? EXIT_OK : EXIT_ERROR;
}

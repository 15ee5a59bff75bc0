/** `acl validate`: the report of both stages, in the documented form or as JSON. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_ERROR, EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { OperationError } from "../../core/errors.ts";
import { validatePolicy } from "../../policy/validate.ts";
import { validationJson, validationReport } from "../../policy/report.ts";

/** Flags of `acl validate`. */
export interface ValidateFlags {
  localOnly?: boolean;
  json?: boolean;
}

/**
 * Validates a policy file and prints the report; exit 1 when there is any error. When the
 * server stage cannot run (not logged in, unreachable), the report says only the local
 * stage passed, and its error (exit 4 or 5) ends the command, naming `--local-only`: the
 * validation asked for was not complete.
 */
export async function runValidate(
  context: CliContext,
  path: string,
  flags: ValidateFlags,
): Promise<number> {
  const { io } = context;
  const outcome = await validatePolicy(context, { policy: { path }, localOnly: flags.localOnly });
  if (flags.json) {
    printJson(io, validationJson(outcome.name, outcome.findings, outcome.counts, outcome.server));
  } else {
    io.out(
      validationReport(outcome.name, outcome.findings, outcome.counts, io.outStyle, {
        text: outcome.text,
        server: outcome.server,
      }),
    );
  }
  const failed = outcome.serverError;
  if (failed) {
    const offline = `To validate without the server stage: cloudsignal acl validate ${
      path === "-" ? "-" : outcome.name
    } --local-only`;
    const reason = /^[A-Z][a-z]/.test(failed.message)
      ? failed.message[0].toLowerCase() + failed.message.slice(1)
      : failed.message;
    throw new OperationError(
      `the server stage of validation was skipped: ${reason}`,
      failed.hint ? `${failed.hint}\n${offline}` : offline,
      failed.code,
    );
  }
  if (outcome.server === "blocked" && !flags.json) {
    io.err("The server check did not run: fix the errors above first.\n");
  }
  return outcome.valid ? EXIT_OK : EXIT_ERROR;
}

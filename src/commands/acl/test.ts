/** `acl test`: each test, each failure explained, and the rules no test exercised. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_DENIED, EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { testPolicy } from "../../policy/tests.ts";
import { testJson, testReport } from "../../policy/test_report.ts";
import { reportingInvalidPolicy } from "./policy_errors.ts";

/** Runs the tests of the policy at `path`; exit 3 when any fails. */
export async function runTest(
  context: CliContext,
  path: string,
  flags: { json?: boolean },
): Promise<number> {
  const { io } = context;
  const { name, run, why } = await reportingInvalidPolicy(
    io,
    () => testPolicy({ policy: { path } }),
  );
  if (flags.json) printJson(io, testJson(name, run));
  else io.out(testReport(name, run, io.outStyle, why));
  return run.failed > 0 ? EXIT_DENIED : EXIT_OK;
}

/** `acl test`: runs a policy file's tests; exit 3 when any fails. */

import type { Io } from "../cli/io.ts";
import { EXIT_DENIED, EXIT_OK } from "../cli/exit_codes.ts";
import { runPolicyTests } from "../acl/policy_tests.ts";
import { loadValidPolicy } from "./local_policy.ts";
import { testJson, testReport } from "./test_report.ts";

/** Runs the tests of the policy at `path` and prints the report. */
export async function testFile(io: Io, path: string, flags: { json?: boolean }): Promise<number> {
  const loaded = await loadValidPolicy(io, path);
  const run = runPolicyTests(loaded.policy, loaded.compiled, loaded.lineOf);
  if (flags.json) io.out(testJson(loaded.name, run));
  else io.out(testReport(loaded.name, run, io.outStyle));
  return run.failed > 0 ? EXIT_DENIED : EXIT_OK;
}

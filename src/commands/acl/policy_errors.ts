/** How the acl commands show an invalid policy or failing tests before the error line. */

import type { Io } from "../../cli/io.ts";
import { PolicyInvalidError, TestsFailedError } from "../../policy/errors.ts";
import { validationReport } from "../../policy/report.ts";
import { testReport } from "../../policy/test_report.ts";

/**
 * Runs `work`; when it refuses an invalid policy, the validation report goes to stderr
 * first, so the error line that follows points at findings the user can see.
 */
export async function reportingInvalidPolicy<T>(io: Io, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PolicyInvalidError) {
      io.err(
        validationReport(error.source, error.result.findings, error.result.counts, io.errStyle),
      );
    } else if (error instanceof TestsFailedError) {
      io.err(testReport(error.source, error.run, io.errStyle));
    }
    throw error;
  }
}

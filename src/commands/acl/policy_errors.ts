/** How the acl commands show an invalid policy or failing tests before the error line. */

import type { Io } from "../../cli/io.ts";
import { EXIT_DENIED, EXIT_ERROR } from "../../cli/exit_codes.ts";
import { PolicyInvalidError, TestsFailedError } from "../../policy/errors.ts";

/**
 * Runs `work`; when it refuses an invalid policy, the validation report goes to stderr
 * first, so the error line that follows points at findings the user can see.
 */
export async function reportingInvalidPolicy<T>(io: Io, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // The reports load only when there is one to print.
    if (error instanceof PolicyInvalidError) {
      const { validationReport } = await import("../../policy/report.ts");
      io.err(
        validationReport(error.source, error.result.findings, error.result.counts, io.errStyle, {
          text: error.text,
        }),
      );
    } else if (error instanceof TestsFailedError) {
      const { testReport } = await import("../../policy/test_report.ts");
      io.err(testReport(error.source, error.run, io.errStyle));
    }
    throw error;
  }
}

/**
 * The exit code of a write refused before anything was sent, after its report: 1 for an
 * invalid policy (saying `invalid`), 3 for failing tests. Any other error is rethrown.
 */
export function refusedWriteExit(io: Io, error: unknown, invalid: string): number {
  if (error instanceof PolicyInvalidError) {
    io.err(`Nothing was sent: ${invalid}\n`);
    return EXIT_ERROR;
  }
  if (error instanceof TestsFailedError) {
    io.err(`${error.message}\n`);
    return EXIT_DENIED;
  }
  throw error;
}

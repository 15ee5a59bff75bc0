/** The errors of the policy operations that carry what a front end shows: findings, test results. */

import { OperationError } from "../core/errors.ts";
import type { ValidationResult } from "../acl/validate.ts";
import type { TestRunResult } from "../acl/policy_tests.ts";

/** The policy has errors; `result` holds the findings and counts. */
export class PolicyInvalidError extends OperationError {
  constructor(readonly source: string, readonly result: ValidationResult) {
    super(
      `${source} is not a valid policy; fix the errors above first`,
      undefined,
      "policy_invalid",
    );
    this.name = "PolicyInvalidError";
  }
}

/** The policy's own tests fail; the error holds their results. */
export class TestsFailedError extends OperationError {
  constructor(readonly source: string, readonly run: TestRunResult) {
    super(
      `Nothing was sent: ${run.failed} of the policy's tests fail.`,
      undefined,
      "tests_failed",
    );
    this.name = "TestsFailedError";
  }
}

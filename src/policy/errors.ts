/** The errors of the policy operations that carry what a front end shows: findings, test results. */

import { OperationError } from "../core/errors.ts";
import type { ValidationResult } from "../acl/validate.ts";
import type { TestRunResult } from "../acl/policy_tests.ts";

/** The policy has errors; `result` holds the findings and counts. */
export class PolicyInvalidError extends OperationError {
  constructor(
    readonly source: string,
    readonly result: ValidationResult,
    /** The policy's text, to show each finding in (null when it is not UTF-8). */
    readonly text: string | null = null,
  ) {
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

/** How a command names the policy input: its path, or `-` for stdin. */
function argumentOf(source: string): string {
  return source === "<stdin>" ? "-" : /^[\w./@:+-]+$/.test(source) ? source : `'${source}'`;
}

/** Commands with comments lined up: `  command   # comment`. */
function aligned(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([command]) => command.length));
  return rows.map(([command, comment]) =>
    comment ? `  ${command.padEnd(width)}  # ${comment}` : `  ${command}`
  );
}

/**
 * The live policy moved past the revision a change was based on; nothing was written.
 * `code` is `revision_conflict`, like the API client's error for a 412.
 */
export class PolicyConflictError extends OperationError {
  constructor(readonly source: string, readonly base: number, readonly current: number) {
    const file = argumentOf(source);
    super(
      `the policy changed since revision ${base}, which ${source} is based on: it is now ` +
        `revision ${current}; nothing was written`,
      [
        "Someone else updated it. To merge:",
        ...aligned([
          [`cloudsignal acl diff ${file}`, `your file against revision ${current}`],
          ["cloudsignal acl get -o live.json", `revision ${current}, in a file of its own`],
          ["(merge your change into live.json)", ""],
          ["cloudsignal acl update live.json", ""],
        ]),
        `To replace their changes with your file: cloudsignal acl update ${file} --if-revision ${current}`,
      ].join("\n"),
      "revision_conflict",
    );
    this.name = "PolicyConflictError";
  }
}

/** A change names no base revision, so it could overwrite unseen changes; nothing was sent. */
export class BaseUnknownError extends OperationError {
  constructor(readonly source: string, readonly live: number) {
    const file = argumentOf(source);
    super(
      `${source} does not say which revision it is based on (it has no "$revision" member), ` +
        "so it could overwrite changes you have not seen; nothing was sent",
      [
        `If it is based on revision N: cloudsignal acl update ${file} --if-revision N` +
        ` (the live one is ${live}; cloudsignal acl revisions lists them)`,
        `To replace whatever is live: cloudsignal acl update ${file} --force`,
        'Files written by `cloudsignal acl get` (or `acl get -o <file>`) carry "$revision".',
      ].join("\n"),
      "base_unknown",
    );
    this.name = "BaseUnknownError";
  }
}

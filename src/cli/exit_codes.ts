/** Process exit codes of the CLI (listed in `--help` and README). */

import type { ErrorCode } from "../core/errors.ts";

/** Success. */
export const EXIT_OK = 0;
/** An error, or a policy with validation errors. */
export const EXIT_ERROR = 1;
/** Wrong usage: unknown command or option, missing or bad argument. */
export const EXIT_USAGE = 2;
/** `acl simulate --exit-status` decided deny, or policy tests failed. */
export const EXIT_DENIED = 3;
/** Not logged in, or the session expired or was revoked. */
export const EXIT_AUTH = 4;
/** The network or the server is unavailable. */
export const EXIT_UNAVAILABLE = 5;

/** The exit-code table for `--help` and README. */
export const EXIT_CODE_HELP = `Exit codes:
  0  success
  1  error, or the policy has validation errors
  2  usage error (unknown command or option, bad argument)
  3  acl simulate --exit-status decided deny, or policy tests failed
  4  not logged in, or the session expired
  5  network or server unavailable`;

/** The exit code of an operation's error code. */
export function exitCodeOf(code: ErrorCode): number {
  switch (code) {
    case "invalid_argument":
      return EXIT_USAGE;
    case "not_logged_in":
    case "session_expired":
      return EXIT_AUTH;
    case "unavailable":
      return EXIT_UNAVAILABLE;
    case "tests_failed":
      return EXIT_DENIED;
    default:
      return EXIT_ERROR;
  }
}

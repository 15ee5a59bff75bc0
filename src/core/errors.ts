/**
 * The errors operations throw. Each carries a stable `code` that says what went wrong; the
 * front ends decide what it means to them (the CLI an exit code, the MCP server a tool
 * error). Messages are complete sentences a person can act on; `hint` says what to do next.
 */

/** Every error code an operation can report. */
export type ErrorCode =
  /** An argument or input value is not acceptable (the CLI's usage error). */
  | "invalid_argument"
  /** No credentials for the API. */
  | "not_logged_in"
  /** The session is over or was revoked; a new login is needed. */
  | "session_expired"
  /** The network or the server is unavailable, or answered something unusable. */
  | "unavailable"
  /** The policy given is not valid; the error holds the findings. */
  | "policy_invalid"
  /** The policy's own tests fail; the error holds the results. */
  | "tests_failed"
  /** The live policy moved past the revision a change was based on. */
  | "revision_conflict"
  /** A change has no known base revision to be checked against. */
  | "base_unknown"
  /** The thing asked for does not exist (user, claim, revision). */
  | "not_found"
  /** The account may not do this. */
  | "forbidden"
  /** The person or the program cancelled the operation. */
  | "cancelled"
  /** A person declined a confirmation. */
  | "declined"
  /** The input is over a size limit. */
  | "too_large"
  /** Anything else that failed. */
  | "failed";

/** Options of an `OperationError`. */
export interface OperationErrorOptions {
  /** What to do next. */
  hint?: string;
  /** The input field the error is about (`topic`, `--key`…), when there is one. */
  argument?: string;
  cause?: unknown;
}

/** An error an operation reports: a message, a stable code and an optional hint. */
export class OperationError extends Error {
  /** What to do next. */
  readonly hint?: string;
  /** The input field the error is about, when there is one. */
  readonly argument?: string;

  constructor(
    message: string,
    hint?: string,
    readonly code: ErrorCode = "failed",
    options: Omit<OperationErrorOptions, "hint"> = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OperationError";
    this.hint = hint;
    this.argument = options.argument;
  }
}

/** A bad argument or input value. */
export class UsageError extends OperationError {
  constructor(message: string, hint?: string, argument?: string) {
    super(message, hint, "invalid_argument", { argument });
    this.name = "UsageError";
  }
}

/** Not logged in, or the session is over. */
export class AuthError extends OperationError {
  constructor(
    message: string,
    hint?: string,
    code: "not_logged_in" | "session_expired" = "not_logged_in",
  ) {
    super(message, hint, code);
    this.name = "AuthError";
  }
}

/** The network or the server is unavailable. */
export class UnavailableError extends OperationError {
  constructor(message: string, hint?: string) {
    super(message, hint, "unavailable");
    this.name = "UnavailableError";
  }
}

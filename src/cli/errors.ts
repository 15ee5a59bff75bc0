/** Errors that end a command with a message and an exit code, never a stack trace. */

import { EXIT_AUTH, EXIT_ERROR, EXIT_UNAVAILABLE, EXIT_USAGE } from "./exit_codes.ts";

/** An error the user can act on: printed as `Error: <message>` with an optional hint. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_ERROR, readonly hint?: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Wrong usage of a command (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT_USAGE, hint);
    this.name = "UsageError";
  }
}

/** Not logged in, or the session is over (exit 4). */
export class AuthError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT_AUTH, hint);
    this.name = "AuthError";
  }
}

/** The network or server is unavailable (exit 5). */
export class UnavailableError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, EXIT_UNAVAILABLE, hint);
    this.name = "UnavailableError";
  }
}

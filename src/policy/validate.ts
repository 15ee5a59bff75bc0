/**
 * Validating a policy in both stages: the local one (JSON Schema and semantic checks, no
 * network) and, when that found no errors, the server's (claims no user has, selectors that
 * match nobody). Findings of the server are placed at the line and column of the input.
 */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { OperationError } from "../core/errors.ts";
import type { Finding } from "../acl/types.ts";
import { hasErrors, sortFindings } from "../acl/findings.ts";
import { locate } from "../acl/json_positions.ts";
import type { PolicyCounts } from "../acl/validate.ts";
import { checkPolicy, type PolicyInput } from "./source.ts";

/** How far the server stage got. */
export type ServerStageState = "checked" | "skipped" | "blocked" | "failed";

/** A validation's outcome. */
export interface ValidationOutcome {
  /** The policy's name (file path, `<stdin>`, or the inline name). */
  name: string;
  /** No errors in any stage that ran. */
  valid: boolean;
  findings: Finding[];
  counts: PolicyCounts;
  /**
   * `checked`: the server stage ran; `skipped`: local only was asked for; `blocked`: the
   * local stage found errors, so it did not run; `failed`: it could not run (`serverError`).
   */
  server: ServerStageState;
  /** Why the server stage could not run (not logged in, unreachable…). */
  serverError: OperationError | null;
}

/** Input of `validatePolicy`. */
export interface ValidateInput {
  policy: PolicyInput;
  /** Skip the server stage (no network). */
  localOnly?: boolean;
}

/**
 * Validates a policy. Never throws for findings or for a server stage that cannot run: the
 * outcome says so (`server: "failed"` with the error), and the local findings stand.
 */
export async function validatePolicy(
  context: OperationContext,
  input: ValidateInput,
): Promise<ValidationOutcome> {
  const { name, result } = await checkPolicy(input.policy);
  const outcome: ValidationOutcome = {
    name,
    valid: !hasErrors(result.findings),
    findings: result.findings,
    counts: result.counts,
    server: input.localOnly ? "skipped" : "blocked",
    serverError: null,
  };
  const policy = result.policy;
  if (input.localOnly || !result.valid || !policy) return outcome;
  const { ApiClient, PolicyRejectedError } = await import("../api/client.ts");
  let fromServer: Finding[];
  try {
    const client = new ApiClient(context);
    fromServer = await step(context, "Checking with the server", () => client.validate(policy));
  } catch (error) {
    if (error instanceof PolicyRejectedError && error.detail.findings?.length) {
      // A server that checks more than this CLI refused it: its findings are the answer.
      fromServer = error.detail.findings.map((finding) => ({ ...finding, stage: "server" }));
    } else if (error instanceof OperationError) {
      outcome.server = "failed";
      outcome.serverError = error;
      return outcome;
    } else throw error;
  }
  // The server placed its findings in the JSON it was sent; place them in this input.
  const placed = fromServer.map((finding) => {
    const copy = { ...finding };
    delete copy.line;
    delete copy.column;
    if (result.positions) {
      const at = locate(result.positions, finding.pointer);
      copy.line = at.line;
      copy.column = at.column;
    }
    return copy;
  });
  outcome.findings = sortFindings([...result.findings, ...placed]);
  outcome.valid = !hasErrors(outcome.findings);
  outcome.server = "checked";
  return outcome;
}

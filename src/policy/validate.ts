/**
 * Validating a policy in both stages: the local one (JSON Schema and semantic checks, and
 * the API's body limit; no network) and, when that found no errors, the server's (claims no
 * user has, selectors that match nobody). Findings of the server are placed at the line and
 * column of the input.
 */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { OperationError } from "../core/errors.ts";
import type { Finding, Policy } from "../acl/types.ts";
import { hasErrors, sortFindings } from "../acl/findings.ts";
import { locate, type PositionNode } from "../acl/json_positions.ts";
import type { PolicyCounts } from "../acl/validate.ts";
import { checkPolicy, type PolicyInput } from "./source.ts";
import { bodySizeFinding } from "./body_size.ts";
import { splitRevision } from "./file_revision.ts";

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
  /** The policy's text, to show findings in (null when it is not UTF-8). */
  text: string | null;
}

/** Input of `validatePolicy`. */
export interface ValidateInput {
  policy: PolicyInput;
  /** Skip the server stage (no network). */
  localOnly?: boolean;
}

/** Server findings moved to the place of their pointer in the input (the server saw other JSON). */
export function placeFindings(findings: Finding[], positions: PositionNode | null): Finding[] {
  return findings.map((finding) => {
    const copy = { ...finding };
    delete copy.line;
    delete copy.column;
    if (positions) {
      const at = locate(positions, finding.pointer);
      copy.line = at.line;
      copy.column = at.column;
    }
    return copy;
  });
}

/**
 * The server stage: what the API finds about the organization's state, placed in the input
 * (no progress step of its own). A server that checks more than this CLI may refuse the
 * policy (422): its findings are the answer then.
 */
export async function serverStageFindings(
  context: OperationContext,
  policy: Policy,
  positions: PositionNode | null,
): Promise<Finding[]> {
  const { ApiClient, PolicyRejectedError } = await import("../api/client.ts");
  const client = new ApiClient(context);
  let found: Finding[];
  try {
    found = await client.validate(policy);
  } catch (error) {
    if (!(error instanceof PolicyRejectedError && error.detail.findings?.length)) throw error;
    found = error.detail.findings.map((finding) => ({ ...finding, stage: "server" }));
  }
  return placeFindings(found, positions);
}

/**
 * Validates a policy. Never throws for findings or for a server stage that cannot run: the
 * outcome says so (`server: "failed"` with the error), and the local findings stand.
 */
export async function validatePolicy(
  context: OperationContext,
  input: ValidateInput,
): Promise<ValidationOutcome> {
  const { name, result, text } = await checkPolicy(input.policy);
  const outcome: ValidationOutcome = {
    name,
    valid: !hasErrors(result.findings),
    findings: result.findings,
    counts: result.counts,
    server: input.localOnly ? "skipped" : "blocked",
    serverError: null,
    text,
  };
  if (!result.valid || !result.policy) return outcome;
  const policy = splitRevision(result.policy).policy;
  const tooLarge = bodySizeFinding(policy);
  if (tooLarge) {
    outcome.findings = sortFindings([...result.findings, tooLarge]);
    outcome.valid = false;
    if (!input.localOnly) outcome.server = "blocked";
    return outcome;
  }
  if (input.localOnly) return outcome;
  try {
    const placed = await step(
      context,
      "Checking with the server",
      () => serverStageFindings(context, policy, result.positions),
    );
    outcome.findings = sortFindings([...result.findings, ...placed]);
    outcome.valid = !hasErrors(outcome.findings);
    outcome.server = "checked";
  } catch (error) {
    if (!(error instanceof OperationError)) throw error;
    outcome.server = "failed";
    outcome.serverError = error;
  }
  return outcome;
}

/**
 * The policy a tool is given (`policy` JSON text or `policy_path`), and the result fields of
 * a policy that has errors: its findings, never a bare error.
 */

import { UsageError } from "../core/errors.ts";
import { PLAIN } from "../core/text_style.ts";
import type { Finding } from "../acl/types.ts";
import type { PolicyInput } from "../policy/source.ts";
import type { PolicyInvalidError } from "../policy/errors.ts";

/** The name a policy given as text goes by. */
export const INLINE_NAME = "<policy>";

/** The arguments that name a policy. */
export interface PolicyArguments {
  policy?: string;
  policy_path?: string;
}

/** The operation input of `policy` or `policy_path`; `UsageError` naming the argument. */
export function policyInput(args: PolicyArguments): PolicyInput {
  if (args.policy !== undefined && args.policy_path !== undefined) {
    throw new UsageError(
      "policy and policy_path exclude each other: give the JSON text or a file path",
      undefined,
      "policy_path",
    );
  }
  if (args.policy_path === "-") {
    throw new UsageError(
      "policy_path cannot be - (standard input carries the MCP messages); give a file path or the policy text",
      undefined,
      "policy_path",
    );
  }
  if (args.policy_path !== undefined) return { path: args.policy_path };
  if (args.policy !== undefined) return { text: args.policy, name: INLINE_NAME };
  throw new UsageError(
    "a policy is required: give policy (the JSON text) or policy_path (a file)",
    undefined,
    "policy",
  );
}

/** The input of an optional policy (none: the organization's live policy). */
export function optionalPolicyInput(args: PolicyArguments): PolicyInput | undefined {
  return args.policy === undefined && args.policy_path === undefined
    ? undefined
    : policyInput(args);
}

/** The fields every policy-reading tool returns about a policy with errors. */
export interface InvalidPolicyFields {
  policy_name: string;
  valid: false;
  findings: Finding[];
}

/** The result fields and the summary of a refused policy. */
export async function invalidPolicy(
  error: PolicyInvalidError,
  what: string,
): Promise<{ fields: InvalidPolicyFields; summary: string }> {
  const { validationReport } = await import("../policy/report.ts");
  const { findings, counts } = error.result;
  return {
    fields: { policy_name: error.source, valid: false, findings },
    summary: `${what}: ${error.source} is not a valid policy.\n` +
      validationReport(error.source, findings, counts, PLAIN),
  };
}

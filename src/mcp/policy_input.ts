/**
 * The policy a tool is given (`policy` JSON text or `policy_path`), and the result fields of
 * a policy that has errors: its findings, never a bare error. A `policy_path` must be a
 * regular file outside the CLI's state directory: the server never reads the credential
 * store (nor the local platform's data), and never a device or a pipe (`/dev/stdin` would
 * take the protocol's own input).
 */

import type { OperationContext } from "../core/context.ts";
import { UsageError } from "../core/errors.ts";
import { credentialsLocation } from "../auth/credentials.ts";
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
export async function policyInput(
  context: OperationContext,
  args: PolicyArguments,
): Promise<PolicyInput> {
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
  if (args.policy_path !== undefined) {
    await checkPolicyPath(context, args.policy_path);
    return { path: args.policy_path };
  }
  if (args.policy !== undefined) return { text: args.policy, name: INLINE_NAME };
  throw new UsageError(
    "a policy is required: give policy (the JSON text) or policy_path (a file)",
    undefined,
    "policy",
  );
}

/** The input of an optional policy (none: the organization's live policy). */
export async function optionalPolicyInput(
  context: OperationContext,
  args: PolicyArguments,
): Promise<PolicyInput | undefined> {
  return args.policy === undefined && args.policy_path === undefined
    ? undefined
    : await policyInput(context, args);
}

function refusedPath(message: string): UsageError {
  return new UsageError(
    message,
    "Give the path of a policy JSON file, or the policy text as policy.",
    "policy_path",
  );
}

/** Whether `path` is `directory` or under it (both real paths). */
function isWithin(path: string, directory: string): boolean {
  if (!path.startsWith(directory)) return false;
  const rest = path.slice(directory.length);
  return rest === "" || /^[\\/]/.test(rest) || /[\\/]$/.test(directory);
}

/**
 * Refuses a path the server must not read: anything but a regular file or a directory (a
 * directory gets the operation's own message), a file inside the state directory, or the
 * credential store under another name (a hard link). A path that cannot be looked at is
 * left to the operation, which says why it cannot read it.
 */
async function checkPolicyPath(context: OperationContext, path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return;
  }
  if (info.isDirectory) return;
  if (!info.isFile) {
    throw refusedPath(
      `policy_path ${path} is not a regular file (a device, a pipe or a socket); ` +
        "the MCP server reads policy files only",
    );
  }
  const location = credentialsLocation(context.home);
  const [real, home, store] = await Promise.all([
    Deno.realPath(path).catch(() => null),
    Deno.realPath(location.home).catch(() => null),
    Deno.stat(location.file).catch(() => null),
  ]);
  const sameFile = store !== null && store.ino !== null && store.dev === info.dev &&
    store.ino === info.ino;
  if (sameFile || (real !== null && home !== null && isWithin(real, home))) {
    throw refusedPath(
      `policy_path ${path} is in the cloudsignal state directory (${location.home}), which ` +
        "holds the login's tokens: the MCP server does not read files there",
    );
  }
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

/**
 * Where a policy comes from (a file, standard input, or JSON text given inline) and loading
 * it: read, check locally, and for the operations that need a usable policy, compile it or
 * refuse with the findings.
 */

import { PolicyInvalidError } from "./errors.ts";
import type { Finding, Policy } from "../acl/types.ts";
import { validatePolicyText, type ValidationResult } from "../acl/validate.ts";
import { type CompiledPolicy, compilePolicy } from "../acl/compile.ts";
import { locate, type PositionNode } from "../acl/json_positions.ts";
import { MAX_POLICY_FILE_BYTES, readPolicySource, tooLarge } from "./policy_file.ts";
import { splitRevision } from "./file_revision.ts";

/** A policy to work on: a file path (`-` for standard input) or JSON text. */
export type PolicyInput = { path: string } | { text: string; name?: string };

/** A policy read and checked locally. */
export interface CheckedPolicy {
  /** The name to show: the path as given, `<stdin>`, or the inline text's name. */
  name: string;
  result: ValidationResult;
  /** The text that was checked (null when the bytes are not UTF-8), to show findings in. */
  text: string | null;
}

/** A valid policy with what is needed to explain decisions about it. */
export interface LoadedPolicy {
  name: string;
  /** The policy without its `$revision` (what the API gets and diffs compare). */
  policy: Policy;
  /** The base revision the text names in `$revision`, or null. */
  revision: number | null;
  /** The text it was read from. */
  text: string;
  compiled: CompiledPolicy;
  lineOf: (pointer: string) => number | null;
  /** Where each value is in the text. */
  positions: PositionNode | null;
  /** The local stage's warnings. */
  warnings: Finding[];
}

/** The name inline text goes by when none is given. */
export const INLINE_POLICY_NAME = "<policy>";

/** Line lookup for a parsed file, or none. */
export function lineLookup(positions: PositionNode | null): (pointer: string) => number | null {
  return positions ? (pointer) => locate(positions, pointer).line : () => null;
}

/** Reads a policy and runs the local checks (schema and semantics); never throws for findings. */
export async function checkPolicy(input: PolicyInput): Promise<CheckedPolicy> {
  if ("text" in input) {
    const name = input.name ?? INLINE_POLICY_NAME;
    const bytes = new TextEncoder().encode(input.text).length;
    if (bytes > MAX_POLICY_FILE_BYTES) throw tooLarge(name, bytes, true);
    return { name, result: validatePolicyText(input.text), text: input.text };
  }
  const source = await readPolicySource(input.path);
  if (source.text === null) {
    return {
      name: source.name,
      result: {
        valid: false,
        findings: [source.encodingError!],
        policy: null,
        positions: null,
        counts: { global: 0, rules: 0, publishers: 0, tests: 0 },
      },
      text: null,
    };
  }
  return { name: source.name, result: validatePolicyText(source.text), text: source.text };
}

/** Reads, checks and compiles a policy; `PolicyInvalidError` when it has errors. */
export async function loadValidPolicy(input: PolicyInput): Promise<LoadedPolicy> {
  return usablePolicy(await checkPolicy(input));
}

/** Compiles a checked policy; `PolicyInvalidError` when it has errors. */
export function usablePolicy(checked: CheckedPolicy): LoadedPolicy {
  const { name, result, text } = checked;
  if (!result.valid || !result.policy || text === null) {
    throw new PolicyInvalidError(name, result, text);
  }
  const lineOf = lineLookup(result.positions);
  const { policy, revision } = splitRevision(result.policy);
  return {
    name,
    policy,
    revision,
    text,
    compiled: compilePolicy(policy, { lineOf }),
    lineOf,
    positions: result.positions,
    warnings: result.findings,
  };
}

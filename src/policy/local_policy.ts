/** A policy file that must be valid before it is used (simulate, test, update). */

import { CliError } from "../cli/errors.ts";
import type { Io } from "../cli/io.ts";
import type { Policy } from "../acl/types.ts";
import { type CompiledPolicy, compilePolicy } from "../acl/compile.ts";
import { locate, type PositionNode } from "../acl/json_positions.ts";
import { loadPolicyFile } from "./policy_file.ts";
import { validationReport } from "./report.ts";

/** A valid policy with what is needed to explain decisions about it. */
export interface LoadedPolicy {
  name: string;
  policy: Policy;
  compiled: CompiledPolicy;
  lineOf: (pointer: string) => number | null;
}

/** Line lookup for a parsed file, or none. */
export function lineLookup(positions: PositionNode | null): (pointer: string) => number | null {
  return positions ? (pointer) => locate(positions, pointer).line : () => null;
}

/**
 * Loads, validates and compiles a policy file. With errors it prints the validation report
 * to stderr and fails (exit 1), so nothing is decided from a broken policy.
 */
export async function loadValidPolicy(io: Io, path: string): Promise<LoadedPolicy> {
  const { name, result } = await loadPolicyFile(path);
  if (!result.valid || !result.policy) {
    io.err(validationReport(name, result.findings, result.counts, io.errStyle));
    throw new CliError(`${name} is not a valid policy; fix the errors above first`);
  }
  const lineOf = lineLookup(result.positions);
  return {
    name,
    policy: result.policy,
    compiled: compilePolicy(result.policy, { lineOf }),
    lineOf,
  };
}

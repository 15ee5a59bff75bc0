/** `acl validate`: the local stage, then (unless --local-only) the server stage. */

import type { Finding } from "../acl/types.ts";
import { hasErrors, sortFindings } from "../acl/findings.ts";
import type { Io } from "../cli/io.ts";
import { EXIT_ERROR, EXIT_OK } from "../cli/exit_codes.ts";
import { loadPolicyFile } from "./policy_file.ts";
import { validationJson, validationReport } from "./report.ts";
import type { Policy } from "../acl/types.ts";

/** Flags of `acl validate`. */
export interface ValidateFlags {
  localOnly?: boolean;
  json?: boolean;
}

/** The server stage: findings about the organization's state, for a locally valid policy. */
export type ServerStage = (policy: Policy) => Promise<Finding[]>;

/**
 * Validates a policy file and prints the report. The server stage runs only when the local
 * stage found no errors and `serverStage` is given; exit 1 when there is any error.
 */
export async function validateFile(
  io: Io,
  path: string,
  flags: ValidateFlags,
  serverStage: ServerStage | null,
): Promise<number> {
  const { name, result } = await loadPolicyFile(path);
  let findings = result.findings;
  let server: "checked" | "skipped" = "skipped";
  if (!flags.localOnly && serverStage && result.valid && result.policy) {
    findings = sortFindings([...findings, ...await serverStage(result.policy)]);
    server = "checked";
  }
  if (flags.json) io.out(validationJson(name, findings, result.counts, server));
  else io.out(validationReport(name, findings, result.counts, io.outStyle));
  return hasErrors(findings) ? EXIT_ERROR : EXIT_OK;
}

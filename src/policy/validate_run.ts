/** `acl validate`: the local stage, then (unless --local-only) the server stage. */

import type { Finding } from "../acl/types.ts";
import { hasErrors, sortFindings } from "../acl/findings.ts";
import { locate } from "../acl/json_positions.ts";
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
 * stage found no errors and `serverStage` is given; exit 1 when there is any error. When the
 * server stage cannot run (not logged in, unreachable), the local report is printed and its
 * error (exit 4 or 5) ends the command: the validation asked for was not complete.
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
  const print = () => {
    if (flags.json) io.out(validationJson(name, findings, result.counts, server));
    else io.out(validationReport(name, findings, result.counts, io.outStyle));
  };
  if (!flags.localOnly && serverStage && result.valid && result.policy) {
    try {
      // The server placed its findings in the JSON it was sent; place them in this file.
      const fromServer = (await serverStage(result.policy)).map((finding) => {
        const placed = { ...finding };
        delete placed.line;
        delete placed.column;
        if (result.positions) {
          const at = locate(result.positions, finding.pointer);
          placed.line = at.line;
          placed.column = at.column;
        }
        return placed;
      });
      findings = sortFindings([...findings, ...fromServer]);
      server = "checked";
    } catch (error) {
      // The local result still stands; the error says why the server stage did not run.
      print();
      throw error;
    }
  } else if (!flags.localOnly && !result.valid && !flags.json) {
    print();
    io.err("The server check did not run: fix the errors above first.\n");
    return EXIT_ERROR;
  }
  print();
  return hasErrors(findings) ? EXIT_ERROR : EXIT_OK;
}

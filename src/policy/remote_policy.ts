/**
 * The live policy: `acl get` (with the revision recorded for later updates), `acl update`
 * (validate, test, diff, confirm, write with `If-Match`), and `acl revisions`.
 */

import type { CliContext } from "../cli/program.ts";
import { CliError, UsageError } from "../cli/errors.ts";
import { EXIT_DENIED, EXIT_ERROR, EXIT_OK } from "../cli/exit_codes.ts";
import { writeFileAtomic } from "../cli/atomic_write.ts";
import { withProgress } from "../cli/progress.ts";
import { ApiClient, PolicyRejectedError, RevisionConflictError } from "../api/client.ts";
import { runPolicyTests } from "../acl/policy_tests.ts";
import { formatFinding } from "../acl/findings.ts";
import { loadPolicyFile } from "./policy_file.ts";
import { lineLookup } from "./local_policy.ts";
import { compilePolicy } from "../acl/compile.ts";
import { validationReport } from "./report.ts";
import { testReport } from "./test_report.ts";
import { formatPolicyJson } from "./json_format.ts";
import { decisionChanges, diffPolicies, formatDiff } from "./diff.ts";
import { fetchedRevision, recordFetchedRevision } from "./fetched_revisions.ts";
import { printable } from "../cli/printable.ts";

/** Flags of `acl get`. */
export interface GetFlags {
  revision?: string;
  pretty?: boolean;
  compact?: boolean;
  output?: string;
}

function parseRevision(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${flag} must be a revision number (got ${JSON.stringify(text)})`);
  }
  return Number(text);
}

/** `acl get`: the policy as JSON on stdout (or `--output`), pretty on a terminal. */
export async function getPolicy(context: CliContext, flags: GetFlags): Promise<number> {
  if (flags.pretty && flags.compact) {
    throw new UsageError("--pretty and --compact exclude each other");
  }
  const revision = parseRevision(flags.revision, "--revision");
  const client = new ApiClient(context);
  const { io } = context;
  const [fetched, organization] = await withProgress(
    io,
    "Fetching the policy",
    () => Promise.all([client.policy(revision), client.organization()]),
  );
  const toFile = flags.output !== undefined && flags.output !== "-";
  const pretty = flags.pretty || (!flags.compact && (toFile || io.stdoutIsTerminal));
  const text = pretty ? formatPolicyJson(fetched.policy) : `${JSON.stringify(fetched.policy)}\n`;
  if (toFile) {
    try {
      await writeFileAtomic(flags.output!, text);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? "its directory does not exist"
        : error instanceof Error
        ? error.message
        : String(error);
      throw new CliError(`cannot write ${flags.output}: ${reason}`);
    }
  } else io.out(text);
  // Only the live policy is what later edits are based on; an earlier revision is for
  // reading or rolling back, which the last live fetch still guards.
  if (revision === undefined) {
    await recordFetchedRevision(context.home, context.apiUrl, organization.id, fetched.revision);
  }
  if (toFile || io.stderrIsTerminal) {
    io.err(
      `${toFile ? `Wrote ${flags.output}: ` : ""}policy revision ${fetched.revision} of ` +
        `${organization.name}${revision === undefined ? "" : " (an earlier revision)"}\n`,
    );
  }
  return EXIT_OK;
}

/** Flags of `acl update`. */
export interface UpdateFlags {
  yes?: boolean;
  dryRun?: boolean;
  ifRevision?: string;
  force?: boolean;
}

/**
 * `acl update`: validates and tests the file, shows what changes against the live policy,
 * asks (on a terminal, unless `--yes`), and writes it only if the live policy is still the
 * revision the file was based on.
 */
export async function updatePolicy(
  context: CliContext,
  path: string,
  flags: UpdateFlags,
): Promise<number> {
  const { io } = context;
  if (flags.force && flags.ifRevision !== undefined) {
    throw new UsageError("--force and --if-revision exclude each other");
  }
  const explicitBase = parseRevision(flags.ifRevision, "--if-revision");
  const { name, result } = await loadPolicyFile(path);
  if (!result.valid || !result.policy) {
    io.err(validationReport(name, result.findings, result.counts, io.errStyle));
    io.err(`Nothing was sent: fix the errors in ${name} first.\n`);
    return EXIT_ERROR;
  }
  const policy = result.policy;
  const compiled = compilePolicy(policy, { lineOf: lineLookup(result.positions) });
  const tests = runPolicyTests(policy, compiled, lineLookup(result.positions));
  if (tests.failed > 0) {
    io.err(testReport(name, tests, io.errStyle));
    io.err(`Nothing was sent: ${tests.failed} of the policy's tests fail.\n`);
    return EXIT_DENIED;
  }

  const client = new ApiClient(context);
  const [live, organization] = await withProgress(
    io,
    "Fetching the live policy",
    () => Promise.all([client.policy(), client.organization()]),
  );
  const recorded = await fetchedRevision(context.home, context.apiUrl, organization.id);
  const base: number | "*" = flags.force
    ? "*"
    : explicitBase ?? recorded?.revision ?? live.revision;
  if (base !== "*" && base !== live.revision) {
    throw new RevisionConflictError(base, live.revision);
  }

  const diff = diffPolicies(live.policy, policy);
  if (diff.identical) {
    io.out(
      `The live policy of ${organization.name} (revision ${live.revision}) is already ${name}; nothing to update.\n`,
    );
    return EXIT_OK;
  }
  const baseNote = flags.force
    ? " (--force: whatever is live is replaced)"
    : recorded === null && explicitBase === undefined
    ? " (no fetched revision recorded: based on the live one)"
    : "";
  io.out(
    `Changes to the policy of ${organization.name}, revision ${live.revision}${baseNote}:\n` +
      formatDiff(diff, decisionChanges(live.policy, policy), io.outStyle),
  );
  for (const warning of result.findings) io.out(`${formatFinding(warning)}\n`);
  if (flags.dryRun) {
    io.out("Dry run: nothing was sent.\n");
    return EXIT_OK;
  }
  if (!flags.yes) {
    if (!io.stdinIsTerminal) {
      throw new UsageError(
        "acl update needs a confirmation, and standard input is not a terminal",
        "Pass --yes to update without asking (or --dry-run to only see the changes).",
      );
    }
    const answer = await io.ask(`Update the policy of ${organization.name}? [y/N] `);
    if (!answer || !/^y(es)?$/i.test(answer.trim())) {
      io.err("Not updated.\n");
      return EXIT_ERROR;
    }
  }
  let written;
  try {
    written = await withProgress(
      io,
      "Updating the policy",
      () => client.updatePolicy(policy, base),
    );
  } catch (error) {
    if (error instanceof PolicyRejectedError) {
      for (const finding of error.detail.findings ?? []) {
        io.err(`${printable(formatFinding(finding), 2000)}\n`);
      }
      for (const failure of error.detail.tests?.failures ?? []) {
        io.err(`  test failed: ${printable(failure.name)}: ${printable(failure.explanation)}\n`);
      }
    }
    throw error;
  }
  await recordFetchedRevision(context.home, context.apiUrl, organization.id, written.revision);
  io.out(
    `Updated the policy of ${organization.name}: revision ${written.revision}.\n` +
      `The previous one stays available: cloudsignal acl get --revision ${live.revision}\n`,
  );
  return EXIT_OK;
}

/** `acl revisions`: the policy's revisions, newest first. */
export async function listRevisions(
  context: CliContext,
  flags: { json?: boolean },
): Promise<number> {
  const client = new ApiClient(context);
  const list = await withProgress(context.io, "Fetching the revisions", () => client.revisions());
  if (flags.json) {
    context.io.out(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT_OK;
  }
  const lines = ["REVISION  CREATED                   BY"];
  for (const revision of list.revisions) {
    const current = revision.revision === list.current_revision ? " (live)" : "";
    lines.push(
      `${String(revision.revision).padEnd(8)}  ${revision.created_at.padEnd(24)}  ${
        revision.created_by ? printable(revision.created_by.email) : "(initial policy)"
      }${current}`,
    );
  }
  context.io.out(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

/**
 * The end every policy write shares (`acl update`, `acl rollback`, `acl edit`): show what
 * changes against the live policy and what the server found, ask, write with `If-Match`,
 * and say what happened; or with `--json`, one object on stdout.
 */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_ERROR, EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { UsageError } from "../../core/errors.ts";
import { printable } from "../../core/printable.ts";
import type { Finding } from "../../acl/types.ts";
import { PolicyRejectedError } from "../../api/client.ts";
import {
  applyPolicyUpdate,
  type BaseRevision,
  type UpdatePlan,
  type UpdateResult,
} from "../../policy/update.ts";
import { type DecisionChange, formatChanges, type PolicyDiff } from "../../policy/diff.ts";
import type { TextStyle } from "../../core/text_style.ts";
import { BaseUnknownError, PolicyConflictError } from "../../policy/errors.ts";
import { type FileRecord, recordRevisionInFile } from "../../policy/file_revision.ts";
import type { PolicyOrganization } from "../../policy/read.ts";
import { findingLines } from "../../policy/report.ts";
import { formatFinding, hasErrors } from "../../acl/findings.ts";
import { showDiff } from "./diff_output.ts";

/** Flags every policy write takes. */
export interface PushFlags {
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  full?: boolean;
}

/** What to call things in messages. */
export interface PushWording {
  /** The question, e.g. "Update the policy of Development?". */
  question: string;
  /** The command, for the message that asks for `--yes`. */
  command: string;
}

/** The `--json` object of `acl update`, `acl rollback` and `acl edit`. */
export interface PushJson {
  organization: PolicyOrganization;
  file: string;
  live_revision: number;
  base_revision: BaseRevision | null;
  dry_run: boolean;
  changed: boolean;
  diff: PolicyDiff;
  test_changes: DecisionChange[] | null;
  /** Findings before writing: the local stage's warnings and the server stage's. */
  warnings: Finding[];
  /** The revision written; null when nothing was. */
  revision: number | null;
  /** The server's findings in its answer to the write; null when nothing was written. */
  findings: Finding[] | null;
  /** Whether the pushed file now names the new revision; null when there is no file. */
  file_revision: FileRecord | null;
}

function pushJson(
  plan: UpdatePlan,
  dryRun: boolean,
  result: UpdateResult | null,
  file: FileRecord | null = null,
): PushJson {
  return {
    organization: plan.organization,
    file: plan.name,
    live_revision: plan.live.revision,
    base_revision: plan.base,
    dry_run: dryRun,
    changed: !plan.diff.identical,
    diff: plan.diff,
    test_changes: plan.testChanges,
    warnings: [...plan.warnings, ...plan.serverFindings],
    revision: result?.revision ?? null,
    findings: result?.findings ?? null,
    file_revision: file,
  };
}

function baseNote(plan: UpdatePlan): string {
  if (plan.baseSource === "force") return " (--force: whatever is live is replaced)";
  if (plan.base === null) return ` (${plan.name} names no base revision)`;
  return "";
}

/** The changes someone else made since the base, which the policy would undo. */
function sinceBaseText(plan: UpdatePlan, style: TextStyle): string {
  const lines = [
    `${plan.name} is based on revision ${plan.base}, but the live policy is revision ` +
    `${plan.live.revision}: an update would be refused.`,
  ];
  if (plan.sinceBase && !plan.sinceBase.identical) {
    lines.push(
      `Changed since revision ${plan.base} (not in ${plan.name}; pushing it would undo these):`,
      ...formatChanges(plan.sinceBase, style),
    );
  }
  return `${lines.join("\n")}\n`;
}

function refusal(plan: UpdatePlan): Error | null {
  if (plan.base === null) return new BaseUnknownError(plan.name, plan.live.revision);
  if (plan.conflict) {
    return new PolicyConflictError(plan.name, plan.base as number, plan.live.revision);
  }
  return null;
}

/** Prints the plan's findings: the local warnings, then the server stage's. */
function printFindings(context: CliContext, plan: UpdatePlan): void {
  const { io } = context;
  const lines: string[] = [];
  for (const finding of [...plan.warnings, ...plan.serverFindings]) {
    lines.push(...findingLines(plan.name, finding, plan.text, io.outStyle));
  }
  if (lines.length > 0) io.out(`${lines.join("\n")}\n`);
}

/** Shows the plan, asks, applies it, and reports; returns the exit code. */
export async function showAndPush(
  context: CliContext,
  plan: UpdatePlan,
  flags: PushFlags,
  wording: PushWording,
): Promise<number> {
  const { io } = context;
  const dryRun = flags.dryRun === true;
  const name = printable(plan.organization.name);
  const refused = refusal(plan);
  if (plan.diff.identical) {
    if (flags.json) printJson(io, pushJson(plan, dryRun, null));
    else {
      io.out(
        `No changes: the live policy of ${name} (revision ${plan.live.revision}) is already ` +
          `${plan.name}; nothing to update.\n`,
      );
    }
    return EXIT_OK;
  }
  if (refused && !dryRun) {
    if (plan.conflict && !flags.json) io.err(sinceBaseText(plan, io.errStyle));
    throw refused;
  }
  // With --json, stdout holds only the JSON; people who are asked see the changes on stderr.
  const toErr = flags.json === true;
  const human = !flags.json || (!flags.yes && !dryRun && io.stdinIsTerminal);
  if (human) {
    const write = (text: string) => toErr ? io.err(text) : io.out(text);
    if (plan.conflict) write(sinceBaseText(plan, toErr ? io.errStyle : io.outStyle));
    write(
      `Changes to the policy of ${name}, ${plan.conflict ? "against the live " : ""}` +
        `revision ${plan.live.revision}${baseNote(plan)}:\n`,
    );
    await showDiff(io, plan.diff, plan.testChanges, {
      full: flags.full,
      to: toErr ? "err" : "out",
    });
    if (!toErr) printFindings(context, plan);
  }
  if (hasErrors(plan.serverFindings)) {
    if (flags.json) printJson(io, pushJson(plan, dryRun, null));
    io.err(`Nothing was sent: the server found errors in ${plan.name}.\n`);
    return EXIT_ERROR;
  }
  if (dryRun) {
    if (flags.json) printJson(io, pushJson(plan, true, null));
    else io.out("Dry run: nothing was sent.\n");
    if (refused) throw refused;
    return EXIT_OK;
  }
  if (!flags.yes) {
    if (!io.stdinIsTerminal) {
      throw new UsageError(
        `${wording.command} needs a confirmation, and standard input is not a terminal`,
        "Pass --yes to write without asking (or --dry-run to only see the changes).",
      );
    }
    const answer = await io.ask(`${wording.question} [y/N] `);
    if (!answer || !/^y(es)?$/i.test(answer.trim())) {
      io.err("Nothing was sent.\n");
      return EXIT_ERROR;
    }
  }
  let written;
  try {
    written = await applyPolicyUpdate(context, plan);
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
  // The file now matches the live policy: it records the new revision, so its next edit
  // is based on what was just written.
  const file = plan.file
    ? await recordRevisionInFile(plan.file, plan.text, written.revision)
    : null;
  if (flags.json) {
    printJson(io, pushJson(plan, false, written, file));
    return EXIT_OK;
  }
  const shown = new Set(plan.serverFindings.map(findingKey));
  const news = written.findings.filter((finding) =>
    finding.stage === "server" && !shown.has(findingKey(finding))
  );
  if (news.length > 0) {
    io.out("The server reports:\n");
    for (const finding of news) {
      io.out(`${findingLines(plan.name, finding, plan.text, io.outStyle).join("\n")}\n`);
    }
  }
  io.out(
    `Updated the policy of ${name}: revision ${written.revision}.\n` +
      `The previous one stays available: cloudsignal acl get --revision ${written.previous_revision}\n`,
  );
  if (plan.file) io.err(fileNote(plan.file, written.revision, file));
  return EXIT_OK;
}

function findingKey(finding: Finding): string {
  return `${finding.severity}\u0000${finding.code}\u0000${finding.pointer}`;
}

function fileNote(path: string, revision: number, file: FileRecord | null): string {
  switch (file) {
    case "recorded":
      return `${path} now records "$revision": ${revision}.\n`;
    case "file_changed":
      return `${path} changed while the update ran, so it was left as it is: its "$revision" ` +
        `still names the old base (the live revision is now ${revision}).\n`;
    default:
      return `Could not record "$revision": ${revision} in ${path}; set it by hand, ` +
        `or fetch again with: cloudsignal acl get -o ${path} --force\n`;
  }
}

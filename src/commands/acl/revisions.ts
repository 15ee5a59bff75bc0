/** `acl revisions`: the policy's revisions, newest first, a page at a time. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { UsageError } from "../../core/errors.ts";
import { printable } from "../../core/printable.ts";
import { listRevisions } from "../../policy/read.ts";
import { parseRevisionFlag } from "./flags.ts";

/** Revisions listed when `--limit` is not given. */
export const DEFAULT_REVISION_LIMIT = 30;

/** Flags of `acl revisions`. */
export interface RevisionsFlags {
  json?: boolean;
  limit?: string;
  before?: string;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_REVISION_LIMIT;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) {
    throw new UsageError(`--limit must be a number from 1 to 1000 (got ${JSON.stringify(text)})`);
  }
  return Number(text);
}

/** Prints the revisions as a table (with a line saying how to see more) or JSON. */
export async function runRevisions(context: CliContext, flags: RevisionsFlags): Promise<number> {
  const limit = parseLimit(flags.limit);
  const before = parseRevisionFlag(flags.before, "--before");
  const list = await listRevisions(context, { limit, before });
  if (flags.json) {
    printJson(context.io, list);
    return EXIT_OK;
  }
  const lines = ["REVISION  CREATED                   BY"];
  for (const revision of list.revisions) {
    const current = revision.revision === list.current_revision ? " (live)" : "";
    lines.push(
      `${String(revision.revision).padEnd(8)}  ${printable(revision.created_at).padEnd(24)}  ${
        revision.created_by ? printable(revision.created_by.email) : "(initial policy)"
      }${current}`,
    );
  }
  if (list.revisions.length === 0) lines.push("(no revisions)");
  if (list.next_before !== null) {
    lines.push(
      `… more: cloudsignal acl revisions --before ${list.next_before}` +
        (flags.limit === undefined ? "" : ` --limit ${limit}`),
    );
  }
  context.io.out(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

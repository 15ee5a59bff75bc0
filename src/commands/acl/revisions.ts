/** `acl revisions`: the policy's revisions, newest first. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { escapeJsonText, printable } from "../../core/printable.ts";
import { listRevisions } from "../../policy/read.ts";

/** Prints the revisions as a table or JSON. */
export async function runRevisions(
  context: CliContext,
  flags: { json?: boolean },
): Promise<number> {
  const list = await listRevisions(context);
  if (flags.json) {
    context.io.out(`${escapeJsonText(JSON.stringify(list, null, 2))}\n`);
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
  context.io.out(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

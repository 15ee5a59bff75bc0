/**
 * Showing a policy diff: whole when short or with `--full`; when long, through `$PAGER` on a
 * terminal, else as counts with a pointer to `--full`.
 */

import type { Io } from "../../cli/io.ts";
import {
  type DecisionChange,
  formatDiff,
  type PolicyDiff,
  summarizeDiff,
} from "../../policy/diff.ts";

/** Diffs longer than this many lines are paged or summarised. */
export const LONG_DIFF_LINES = 40;

/** Pipes `text` through the user's pager; false when there is none or it cannot start. */
export async function page(io: Io, text: string): Promise<boolean> {
  const pager = (io.env("PAGER") ?? "less").trim();
  if (pager === "" || pager === "cat" || Deno.build.os === "windows") return false;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("sh", {
      args: ["-c", pager],
      stdin: "piped",
      stdout: "inherit",
      stderr: "inherit",
      env: io.env("LESS") === undefined ? { LESS: "FRX" } : {},
    }).spawn();
  } catch {
    return false;
  }
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // The pager quit before reading everything (`q` in less): the reader's choice.
  }
  return (await child.status).success;
}

/** Options of `showDiff`. */
export interface ShowDiffOptions {
  /** Print every change however long the diff is. */
  full?: boolean;
  /** Where to print it: stdout (the command's output) or stderr (beside JSON output). */
  to?: "out" | "err";
}

/** Prints a diff by the rules above. */
export async function showDiff(
  io: Io,
  diff: PolicyDiff,
  changes: DecisionChange[] | null,
  options: ShowDiffOptions = {},
): Promise<void> {
  const toErr = options.to === "err";
  const write = (text: string) => toErr ? io.err(text) : io.out(text);
  const text = formatDiff(diff, changes, toErr ? io.errStyle : io.outStyle);
  const lines = text.split("\n").length - 1;
  if (options.full || lines <= LONG_DIFF_LINES) return write(text);
  if (!toErr && io.stdoutIsTerminal && await page(io, text)) return;
  write(
    summarizeDiff(diff, changes) +
      `  (${lines.toLocaleString("en-US")} lines of changes: --full prints them all)\n`,
  );
}

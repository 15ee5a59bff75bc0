/**
 * The file `acl edit` opens: the policy's JSON under a block of `#` comment lines that says
 * how to save or cancel and, after a failed save, what was wrong (like `kubectl edit`). The
 * block is blanked out, line for line, before the JSON is read, so every line and column a
 * finding names is the one the editor shows.
 */

import { formatFinding } from "../acl/findings.ts";
import { PolicyInvalidError, type TestsFailedError } from "./errors.ts";

/** What the comment block says before anything went wrong. */
const INSTRUCTIONS = [
  "Edit the policy below and save to check, test and push it (you are asked first).",
  "Lines starting with '#' at the top are ignored; an empty file cancels the edit.",
  'Keep "$revision": it is the live revision this edit is based on.',
];

/** The file's text: the comment block (instructions, then `problems` if any) and the policy. */
export function editBuffer(policyText: string, problems: string[] = []): string {
  const lines = [...INSTRUCTIONS];
  if (problems.length > 0) {
    lines.push(
      "",
      "The last save was not pushed. Fix what follows, then save again:",
      ...problems.flatMap((problem) => problem.split("\n").map((line) => `  ${line}`)),
    );
  }
  return `${lines.map((line) => (line === "" ? "#" : `# ${line}`)).join("\n")}\n${policyText}`;
}

/** A saved edit buffer, read. */
export interface SavedEdit {
  /** The text with the leading comment lines blanked (same line count as saved). */
  text: string;
  /** Only comments and whitespace were left: the edit is cancelled. */
  empty: boolean;
}

/**
 * Reads a saved buffer: blanks the leading `#` lines (and blank lines among them), keeping
 * every other byte in place.
 */
export function readEditBuffer(saved: string): SavedEdit {
  const lines = saved.split("\n");
  let k = 0;
  while (k < lines.length && /^\s*(#.*)?\r?$/.test(lines[k])) lines[k++] = "";
  const text = lines.join("\n");
  return { text, empty: text.trim() === "" };
}

/**
 * The comment lines for a save that was refused: each finding or failing test with its
 * place, its line moved by `lineShift` (when the block above the policy changes size).
 */
export function problemsOf(
  error: PolicyInvalidError | TestsFailedError,
  lineShift = 0,
): string[] {
  if (error instanceof PolicyInvalidError) {
    return error.result.findings.map((finding) => {
      const place = finding.line === undefined
        ? ""
        : ` (line ${finding.line + lineShift}, column ${finding.column ?? 1})`;
      return `${formatFinding(finding).trimStart()}${place}`;
    });
  }
  return error.run.outcomes.filter((outcome) => !outcome.passed).map((outcome) =>
    `test "${outcome.name}"${
      outcome.line === null ? "" : ` (line ${outcome.line + lineShift})`
    }: ` +
    `expected ${outcome.expect}, got ${outcome.decision.decision}: ${outcome.explanation}`
  );
}

/**
 * The offending text of a finding with a caret under it: a short window of its line, so a
 * place in a one-line file (`policy.json:1:643`) is as easy to find as in a formatted one.
 */

/** Widest window of a line shown, in characters. */
const WIDTH = 72;
/** Characters kept before the caret when the line is cut. */
const BEFORE = 28;

// deno-lint-ignore no-control-regex -- control characters are what is replaced
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function isLowSurrogate(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The lines of an excerpt: the window of line `line` and a caret under `column` (1-based). */
export function excerptLines(text: string, line: number, column: number): [string, string] | null {
  const lines = text.split("\n");
  if (line < 1 || line > lines.length) return null;
  const full = lines[line - 1].replace(/\r$/, "");
  // One character for one: the caret stays under the place it names.
  const shown = full.replace(/\t/g, " ").replace(CONTROL, "·");
  const at = Math.min(Math.max(column - 1, 0), shown.length);
  let start = 0;
  let end = shown.length;
  if (shown.length > WIDTH) {
    start = Math.max(0, Math.min(at - BEFORE, shown.length - WIDTH));
    end = Math.min(shown.length, start + WIDTH);
    if (start > 0 && isLowSurrogate(shown, start)) start++;
    if (end < shown.length && isLowSurrogate(shown, end)) end++;
  }
  const prefix = start > 0 ? "…" : "";
  const suffix = end < shown.length ? "…" : "";
  const window = `${prefix}${shown.slice(start, end)}${suffix}`;
  return [window, `${" ".repeat(prefix.length + at - start)}^`];
}

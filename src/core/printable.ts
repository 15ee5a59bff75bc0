/**
 * Text from a server, safe to print on a terminal: control characters (which could move the
 * cursor, rewrite the title or hide text) are replaced, never passed through.
 */

// deno-lint-ignore no-control-regex -- the control characters are what is removed
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/** `text` with every run of control characters made one space, trimmed and cut to `limit`. */
export function printable(text: string, limit = 300): string {
  const clean = text.replace(CONTROL, " ").trim();
  return clean.length > limit ? `${clean.slice(0, limit)}…` : clean;
}

/**
 * `JSON.stringify(value)` that also escapes DEL and the C1 controls (JSON escapes only
 * U+0000 to U+001F): still valid JSON, and harmless on a terminal.
 */
export function quoted(value: unknown): string {
  return (JSON.stringify(value) ?? "undefined").replace(
    /[\u007f-\u009f]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

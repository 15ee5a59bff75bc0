/**
 * Text from a server, safe to print on a terminal: control characters (which could move the
 * cursor, rewrite the title or hide text) and invisible formatting characters (bidi overrides
 * and isolates that reorder what is shown, zero-width characters that make two different
 * values look the same, tag characters that hide text) are replaced, never passed through.
 */

/**
 * Controls (C0, DEL, C1), format characters (bidi marks, overrides and isolates U+202A–U+202E
 * and U+2066–U+2069, U+200B–U+200F, U+061C, U+FEFF, tags…), lone surrogates, and the line and
 * paragraph separators U+2028 and U+2029.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const UNSAFE_RUNS = new RegExp(`${UNSAFE.source}+`, "gu");
/** The same, less the whitespace JSON text may hold between its tokens. */
const UNSAFE_IN_JSON = new RegExp(`(?![\\t\\n\\r])${UNSAFE.source}`, "gu");

/** `text` with every run of unsafe characters made one space, trimmed and cut to `limit`. */
export function printable(text: string, limit = 300): string {
  const clean = text.replace(UNSAFE_RUNS, " ").trim();
  return clean.length > limit ? `${clean.slice(0, limit)}…` : clean;
}

function escaped(character: string): string {
  let out = "";
  for (let at = 0; at < character.length; at++) {
    out += `\\u${character.charCodeAt(at).toString(16).padStart(4, "0")}`;
  }
  return out;
}

/**
 * JSON text with the unsafe characters JSON leaves raw (DEL, C1, bidi and zero-width
 * characters, U+2028…) written as `\uXXXX` escapes: the same JSON value, harmless on a
 * terminal and in an editor. They can only occur inside strings, where the escapes are valid.
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escaped);
}

/** `JSON.stringify(value)` with the unsafe characters escaped (see `escapeJsonText`). */
export function quoted(value: unknown): string {
  return escapeJsonText(JSON.stringify(value) ?? "undefined");
}

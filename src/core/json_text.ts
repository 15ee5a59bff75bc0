/**
 * JSON text for policies and every JSON output: two-space indent, short scalar arrays kept
 * on one line, control characters escaped (text from a server is shown on a terminal).
 */

import { quoted } from "./printable.ts";

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

function format(value: unknown, indent: string): string {
  if (isScalar(value)) return quoted(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const flat = `[${value.map((item) => quoted(item)).join(", ")}]`;
    if (value.every(isScalar) && flat.length + indent.length <= 80) return flat;
    return `[\n${value.map((item) => inner + format(item, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${
    entries.map(([key, item]) => `${inner}${quoted(key)}: ${format(item, inner)}`).join(
      ",\n",
    )
  }\n${indent}}`;
}

/** Pretty JSON with a final newline. */
export function formatJson(value: unknown): string {
  return `${format(value, "")}\n`;
}

/**
 * JSON text by the CLI's one rule: formatted (as above) when `pretty`, else on one line;
 * either way with a final newline and control characters escaped.
 */
export function jsonText(value: unknown, pretty: boolean): string {
  return pretty ? formatJson(value) : `${quoted(value)}\n`;
}

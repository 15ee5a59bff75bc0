/**
 * JSON text for policies: two-space indent, short scalar arrays kept on one line, control
 * characters escaped (a policy from a server is shown on a terminal).
 */

import { quoted } from "../core/printable.ts";

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
export function formatPolicyJson(value: unknown): string {
  return `${format(value, "")}\n`;
}

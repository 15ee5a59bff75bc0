/**
 * Validation findings: building them with their place, ordering them, and the documented
 * one-line form `  error: rules[1] - message`.
 */

import type { Finding, Severity } from "./types.ts";
import { locate, pointerTokens, type PositionNode } from "./json_positions.ts";

const ELEMENT_SECTIONS = new Set(["global", "rules", "publishers", "tests"]);

/**
 * The documented human path for a pointer: the rule, publisher or test it is in
 * (`rules[1]`), a top-level field (`default`), or `(root)`.
 */
export function humanPath(pointer: string): string {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return "(root)";
  const [section, index] = tokens;
  if (ELEMENT_SECTIONS.has(section) && index !== undefined && /^\d+$/.test(index)) {
    return `${section}[${index}]`;
  }
  return section;
}

/** Builds findings, placing each at its pointer's line and column when positions are known. */
export class FindingList {
  readonly items: Finding[] = [];
  readonly #seen = new Set<string>();

  constructor(private readonly positions: PositionNode | null) {}

  /** Adds a finding unless the same code was already reported at the same pointer. */
  add(
    severity: Severity,
    code: string,
    pointer: string,
    message: string,
    options: { atKey?: boolean; path?: string } = {},
  ): void {
    const key = `${code}\u0000${pointer}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const finding: Finding = {
      severity,
      code,
      path: options.path ?? humanPath(pointer),
      pointer,
      message,
      stage: "local",
    };
    if (this.positions) {
      const at = locate(this.positions, pointer, options.atKey);
      finding.line = at.line;
      finding.column = at.column;
    }
    this.items.push(finding);
  }

  /** Shorthand for an error. */
  error(code: string, pointer: string, message: string, options?: { atKey?: boolean }): void {
    this.add("error", code, pointer, message, options);
  }

  /** Shorthand for a warning. */
  warning(code: string, pointer: string, message: string, options?: { atKey?: boolean }): void {
    this.add("warning", code, pointer, message, options);
  }
}

/** Orders findings by place in the file, errors before warnings at the same place. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) =>
    (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) ||
    (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1) ||
    a.pointer.localeCompare(b.pointer)
  );
}

/** The documented line: two spaces, severity, path, ` - `, message. */
export function formatFinding(finding: Finding): string {
  return `  ${finding.severity}: ${finding.path} - ${finding.message}`;
}

/** Whether any finding is an error. */
export function hasErrors(findings: Finding[]): boolean {
  return findings.some((finding) => finding.severity === "error");
}

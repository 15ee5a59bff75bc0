/** Validation reports in the documented form, for people and as JSON. */

import type { Finding } from "../acl/types.ts";
import type { PolicyCounts } from "../acl/validate.ts";
import { formatFinding, hasErrors } from "../acl/findings.ts";
import type { TextStyle } from "../core/text_style.ts";
import { excerptLines } from "./excerpt.ts";
import type { ServerStageState } from "./validate.ts";

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** "3 rules, 1 global rule, 0 publishers". */
export function countsSummary(counts: PolicyCounts): string {
  return [
    plural(counts.rules, "rule"),
    plural(counts.global, "global rule"),
    plural(counts.publishers, "publisher"),
  ].join(", ");
}

/** Where a finding is: `policy.json:4:86`, or null when its place is unknown. */
export function placeOf(name: string, finding: Finding): string | null {
  if (finding.line === undefined) return null;
  return `${name}:${finding.line}:${finding.column ?? 1}`;
}

/**
 * One finding for people: the documented line, then where it is and, when the text is
 * known, the offending part of its line with a caret under it.
 */
export function findingLines(
  name: string,
  finding: Finding,
  text: string | null | undefined,
  style: TextStyle,
): string[] {
  const line = formatFinding(finding);
  const lines = [finding.severity === "error" ? line : style.yellow(line)];
  const place = placeOf(name, finding);
  if (!place) return lines;
  lines.push(style.dim(`    at ${place}`));
  const excerpt = text ? excerptLines(text, finding.line!, finding.column ?? 1) : null;
  if (excerpt) lines.push(`    ${excerpt[0]}`, `    ${style.red(excerpt[1])}`);
  return lines;
}

/** Options of `validationReport`. */
export interface ReportOptions {
  /** The policy's text, to show each finding in. */
  text?: string | null;
  /** How far the server stage got; `failed` says the local stage passed on its own. */
  server?: ServerStageState;
}

/**
 * The human report: `✓ Policy is valid (…)` or `✗ Policy has errors:`, then one documented
 * line per finding, each followed by its place and the offending text. When the server
 * stage could not run, a policy is never called valid: only its local stage passed.
 */
export function validationReport(
  name: string,
  findings: Finding[],
  counts: PolicyCounts,
  style: TextStyle,
  options: ReportOptions = {},
): string {
  const lines: string[] = [];
  if (hasErrors(findings)) lines.push(style.red("✗ Policy has errors:"));
  else if (options.server === "failed") {
    lines.push(
      style.green(
        `✓ The local stage passed (${countsSummary(counts)}); the server stage was skipped`,
      ),
    );
  } else lines.push(style.green(`✓ Policy is valid (${countsSummary(counts)})`));
  for (const finding of findings) lines.push(...findingLines(name, finding, options.text, style));
  return `${lines.join("\n")}\n`;
}

/** The `--json` report of `acl validate`. */
export interface ValidationJson {
  file: string;
  valid: boolean;
  counts: PolicyCounts;
  server: ServerStageState;
  findings: Finding[];
}

/** The `--json` report's object. */
export function validationJson(
  name: string,
  findings: Finding[],
  counts: PolicyCounts,
  server: ServerStageState,
): ValidationJson {
  return { file: name, valid: !hasErrors(findings), counts, server, findings };
}

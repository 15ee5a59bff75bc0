/** Validation reports in the documented form, for people and as JSON. */

import type { Finding } from "../acl/types.ts";
import type { PolicyCounts } from "../acl/validate.ts";
import { formatFinding, hasErrors } from "../acl/findings.ts";
import type { TextStyle } from "../core/text_style.ts";

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

/** Where a finding is: `    at policy.json:4:86`, or null when its place is unknown. */
export function placeOf(name: string, finding: Finding): string | null {
  if (finding.line === undefined) return null;
  return `${name}:${finding.line}:${finding.column ?? 1}`;
}

/**
 * The human report: `✓ Policy is valid (…)` or `✗ Policy has errors:`, then one documented
 * line per finding, each followed by the file position it refers to.
 */
export function validationReport(
  name: string,
  findings: Finding[],
  counts: PolicyCounts,
  style: TextStyle,
): string {
  const lines: string[] = [];
  if (hasErrors(findings)) lines.push(style.red("✗ Policy has errors:"));
  else lines.push(style.green(`✓ Policy is valid (${countsSummary(counts)})`));
  for (const finding of findings) {
    const line = formatFinding(finding);
    lines.push(finding.severity === "error" ? line : style.yellow(line));
    const place = placeOf(name, finding);
    if (place) lines.push(style.dim(`    at ${place}`));
  }
  return `${lines.join("\n")}\n`;
}

/** The `--json` report. */
export function validationJson(
  name: string,
  findings: Finding[],
  counts: PolicyCounts,
  server: "checked" | "skipped",
): string {
  return `${
    JSON.stringify(
      { file: name, valid: !hasErrors(findings), counts, server, findings },
      null,
      2,
    )
  }\n`;
}

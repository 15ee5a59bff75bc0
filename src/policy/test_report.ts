/** `acl test` output: each test, each failure with its explanation, and unexercised rules. */

import type { TestRunResult } from "../acl/policy_tests.ts";
import type { TextStyle } from "../core/text_style.ts";
import { type DenialReason, describeDenial } from "../acl/explain.ts";

function at(name: string, line: number | null): string {
  return line === null ? "" : ` (${name}:${line})`;
}

/** The human report; `why` (by outcome) explains denials an allow rule nearly prevented. */
export function testReport(
  name: string,
  run: TestRunResult,
  style: TextStyle,
  why: (DenialReason | null)[] = [],
): string {
  const lines: string[] = [];
  if (run.outcomes.length === 0) {
    lines.push(`No tests in ${name}: add a "tests" array (policy version 2.2) to check decisions.`);
  }
  for (const outcome of run.outcomes) {
    if (outcome.passed) {
      lines.push(`${style.green("✓")} ${outcome.name}`);
      continue;
    }
    lines.push(`${style.red("✗")} ${outcome.name}${style.dim(at(name, outcome.line))}`);
    lines.push(`    expected ${outcome.expect}, got ${outcome.decision.decision}`);
    lines.push(`    ${outcome.explanation}`);
    const reason = why[run.outcomes.indexOf(outcome)];
    if (reason) lines.push(`    why: ${describeDenial(reason)}`);
    for (const entry of outcome.decision.trace ?? []) {
      if (entry.applies) lines.push(style.dim(`    ${entry.pointer} applies (${entry.effect})`));
    }
  }
  if (run.outcomes.length > 0) {
    const summary = `${run.outcomes.length} test${run.outcomes.length === 1 ? "" : "s"}: ` +
      `${run.passed} passed, ${run.failed} failed`;
    lines.push("", run.failed > 0 ? style.red(summary) : style.green(summary));
  }
  if (run.unexercised.length > 0) {
    lines.push("", "Rules no test exercised:");
    for (const rule of run.unexercised) {
      lines.push(`  ${rule.path} ${rule.topic}${style.dim(at(name, rule.line))}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The `--json` report's object. */
export function testJson(name: string, run: TestRunResult) {
  return {
    file: name,
    passed: run.passed,
    failed: run.failed,
    tests: run.outcomes.map((outcome) => ({
      name: outcome.name,
      pointer: outcome.pointer,
      line: outcome.line,
      passed: outcome.passed,
      expect: outcome.expect,
      decision: outcome.decision.decision,
      reason: outcome.decision.reason,
      explanation: outcome.explanation,
      matched: outcome.decision.matched,
    })),
    unexercised: run.unexercised,
  };
}

/**
 * Local validation of a policy: JSON syntax with positions, the JSON Schema, and the semantic
 * checks. Pure: takes text or a parsed document, returns findings.
 */

import type { Finding, Policy } from "./types.ts";
import {
  JsonSyntaxError,
  parseJsonWithPositions,
  pointerTokens,
  type PositionNode,
} from "./json_positions.ts";
import { FindingList, hasErrors, humanPath, sortFindings } from "./findings.ts";
import { addSchemaFindings } from "./schema_findings.ts";
import { addSemanticFindings, BrokenParts } from "./semantic_checks.ts";

/** How many rules of each kind a policy has (for "3 rules, 1 global rule, 0 publishers"). */
export interface PolicyCounts {
  global: number;
  rules: number;
  publishers: number;
  tests: number;
}

/** The outcome of local validation. */
export interface ValidationResult {
  /** True when there is no error (warnings allowed). */
  valid: boolean;
  /** Ordered by place in the file. */
  findings: Finding[];
  /** The document, typed, when it is valid. */
  policy: Policy | null;
  /** Positions of every value, when the policy came from text that parsed. */
  positions: PositionNode | null;
  counts: PolicyCounts;
}

function count(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function countsOf(document: unknown): PolicyCounts {
  const object = (document !== null && typeof document === "object" ? document : {}) as Record<
    string,
    unknown
  >;
  return {
    global: count(object.global),
    rules: count(object.rules),
    publishers: count(object.publishers),
    tests: count(object.tests),
  };
}

const DASHBOARD_PERMISSIONS: Record<string, string> = {
  publish: "pub",
  subscribe: "sub",
  both: "pub+sub",
};

/** A document in the dashboard editor's shape: `{ rules: [{ user, topic, permission }] }`. */
function isDashboardShape(document: unknown): boolean {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return false;
  const object = document as Record<string, unknown>;
  return !("version" in object) && Array.isArray(object.rules) &&
    object.rules.some((rule) => rule !== null && typeof rule === "object" && "permission" in rule);
}

function dashboardMessage(): string {
  const mapping = Object.entries(DASHBOARD_PERMISSIONS).map(([from, to]) => `${from} → ${to}`)
    .join(", ");
  return "this is the dashboard editor's format ({ user, topic, permission }); the CLI reads " +
    `the versioned format: add "version": "2.2" and "default": "deny", and in each rule ` +
    `rename "permission" to "action" (${mapping}); \`cloudsignal acl init --preset blank\` ` +
    "writes an example";
}

/** Validates a parsed document; `positions` place the findings in its file. */
export function validatePolicyDocument(
  document: unknown,
  positions: PositionNode | null = null,
  preexisting: Finding[] = [],
): ValidationResult {
  const findings = new FindingList(positions);
  for (const finding of preexisting) findings.items.push(finding);
  if (isDashboardShape(document)) {
    findings.error("dashboard_format", "", dashboardMessage());
  } else {
    const problems = addSchemaFindings(document, findings);
    if (document !== null && typeof document === "object" && !Array.isArray(document)) {
      addSemanticFindings(
        findings,
        document as Policy,
        new BrokenParts(problems.broken),
        new BrokenParts(problems.flagged),
      );
    }
  }
  const sorted = sortFindings(findings.items);
  const valid = !hasErrors(sorted);
  return {
    valid,
    findings: sorted,
    policy: valid ? document as Policy : null,
    positions,
    counts: countsOf(document),
  };
}

/** Validates policy text: syntax errors and duplicate keys come with line and column. */
export function validatePolicyText(text: string): ValidationResult {
  let parsed;
  try {
    parsed = parseJsonWithPositions(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const finding: Finding = {
      severity: "error",
      code: "json_syntax",
      path: "(root)",
      pointer: "",
      message: `invalid JSON: ${error.message}`,
      line: error.at.line,
      column: error.at.column,
      stage: "local",
    };
    return {
      valid: false,
      findings: [finding],
      policy: null,
      positions: null,
      counts: countsOf(null),
    };
  }
  const duplicates: Finding[] = parsed.duplicateKeys.map((duplicate) => ({
    severity: "error",
    code: "duplicate_key",
    path: humanPath(duplicate.pointer),
    pointer: duplicate.pointer,
    message: `duplicate key "${
      pointerTokens(duplicate.pointer).at(-1)
    }": JSON readers disagree on which value wins; keep one`,
    line: duplicate.at.line,
    column: duplicate.at.column,
    stage: "local",
  }));
  return validatePolicyDocument(parsed.value, parsed.positions, duplicates);
}

/**
 * What an update changes: top-level fields, rules and publishers added, removed or changed,
 * tests added or removed, and the test decisions that come out differently. Rules are
 * compared as a set, since their order never changes a decision.
 */

import type { AclRequest, Effect, Policy, PolicyTest } from "../acl/types.ts";
import { compilePolicy } from "../acl/compile.ts";
import { evaluate } from "../acl/evaluate.ts";
import type { TextStyle } from "../core/text_style.ts";
import { quoted } from "../core/printable.ts";

type Section = "global" | "rules" | "publishers";
const SECTIONS: Section[] = ["global", "rules", "publishers"];
const FIELDS = ["$schema", "version", "default", "description"] as const;

/** An element of a section as it is in one policy. */
export interface Placed {
  index: number;
  value: Record<string, unknown>;
}

/** One section's changes. */
export interface SectionDiff {
  section: Section;
  added: Placed[];
  removed: Placed[];
  changed: { from: Placed; to: Placed; fields: string[] }[];
}

/** Everything that differs between the live policy and the new one. */
export interface PolicyDiff {
  fields: { field: string; from: unknown; to: unknown }[];
  sections: SectionDiff[];
  tests: { added: string[]; removed: string[]; changed: string[] };
  /** Only the order of rules or tests differs. */
  reordered_only: boolean;
  identical: boolean;
}

/** A test whose decision is not the same under both policies. */
export interface DecisionChange {
  name: string;
  from: Effect;
  to: Effect;
}

/** JSON with sorted keys, so that equal values print equally. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return quoted(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${quoted(key)}:${canonical(item)}`).join(",")}}`;
}

function elements(policy: Policy, section: Section): Placed[] {
  const list = (policy[section] ?? []) as unknown as Record<string, unknown>[];
  return list.map((value, index) => ({ index, value }));
}

/** The key that pairs a removed element with an added one as a change. */
function identity(section: Section, value: Record<string, unknown>): string {
  return section === "publishers" ? String(value.identity) : String(value.topic);
}

function diffSection(section: Section, live: Policy, next: Policy): SectionDiff {
  const removed = elements(live, section);
  const added: Placed[] = [];
  for (const element of elements(next, section)) {
    const key = canonical(element.value);
    const twin = removed.findIndex((old) => canonical(old.value) === key);
    if (twin >= 0) removed.splice(twin, 1);
    else added.push(element);
  }
  const changed: SectionDiff["changed"] = [];
  for (let k = 0; k < added.length;) {
    const to = added[k];
    const match = removed.findIndex((from) =>
      identity(section, from.value) === identity(section, to.value)
    );
    if (match < 0) {
      k++;
      continue;
    }
    const [from] = removed.splice(match, 1);
    added.splice(k, 1);
    const fields = [...new Set([...Object.keys(from.value), ...Object.keys(to.value)])]
      .filter((field) => canonical(from.value[field]) !== canonical(to.value[field]));
    changed.push({ from, to, fields });
  }
  return { section, added, removed, changed };
}

function testNames(policy: Policy): string[] {
  return (policy.tests ?? []).map((test) => test.name);
}

/** Compares the live policy with the one about to replace it. */
export function diffPolicies(live: Policy, next: Policy): PolicyDiff {
  const fields = FIELDS
    .filter((field) => canonical(live[field]) !== canonical(next[field]))
    .map((field) => ({ field, from: live[field], to: next[field] }));
  const sections = SECTIONS.map((section) => diffSection(section, live, next))
    .filter((diff) => diff.added.length + diff.removed.length + diff.changed.length > 0);
  const liveTests = new Map((live.tests ?? []).map((test) => [test.name, canonical(test)]));
  const nextTests = new Map((next.tests ?? []).map((test) => [test.name, canonical(test)]));
  const tests = {
    added: testNames(next).filter((name) => !liveTests.has(name)),
    removed: testNames(live).filter((name) => !nextTests.has(name)),
    changed: testNames(next).filter((name) =>
      liveTests.has(name) && liveTests.get(name) !== nextTests.get(name)
    ),
  };
  const semanticallySame = fields.length === 0 && sections.length === 0 &&
    tests.added.length + tests.removed.length + tests.changed.length === 0;
  const identical = semanticallySame && canonical(live) === canonical(next);
  return { fields, sections, tests, reordered_only: semanticallySame && !identical, identical };
}

/** The request a policy test decides. */
export function requestOf(test: PolicyTest): AclRequest {
  return {
    client: test.client,
    action: test.action,
    topic: test.topic,
    qos: test.qos,
    retain: test.retain,
  };
}

/**
 * The tests (of either policy, the new one's version when both have it) whose decision
 * differs between the two policies. Null when the live policy cannot be compiled here.
 */
export function decisionChanges(live: Policy, next: Policy): DecisionChange[] | null {
  let before;
  try {
    before = compilePolicy(live);
  } catch {
    return null;
  }
  const after = compilePolicy(next);
  const tests = new Map<string, PolicyTest>();
  for (const test of [...(live.tests ?? []), ...(next.tests ?? [])]) tests.set(test.name, test);
  const changes: DecisionChange[] = [];
  for (const test of tests.values()) {
    const from = evaluate(before, requestOf(test)).decision;
    const to = evaluate(after, requestOf(test)).decision;
    if (from !== to) changes.push({ name: test.name, from, to });
  }
  return changes;
}

function show(value: unknown): string {
  return value === undefined ? "(none)" : quoted(value);
}

function summary(value: Record<string, unknown>): string {
  return canonical(value);
}

/** The changed fields, rules, publishers and tests in words, one change per line. */
export function formatChanges(diff: PolicyDiff, style: TextStyle): string[] {
  const lines: string[] = [];
  for (const { field, from, to } of diff.fields) {
    lines.push(style.yellow(`  ~ ${field}: ${show(from)} → ${show(to)}`));
  }
  for (const section of diff.sections) {
    for (const { index, value } of section.removed) {
      lines.push(style.red(`  - ${section.section}[${index}] ${summary(value)}`));
    }
    for (const { index, value } of section.added) {
      lines.push(style.green(`  + ${section.section}[${index}] ${summary(value)}`));
    }
    for (const { from, to, fields } of section.changed) {
      const details = fields.map((field) =>
        `${field}: ${show(from.value[field])} → ${show(to.value[field])}`
      );
      const where = from.index === to.index
        ? `${section.section}[${to.index}]`
        : `${section.section}[${from.index}] → [${to.index}]`;
      lines.push(style.yellow(`  ~ ${where} ${details.join("; ")}`));
    }
  }
  const { added, removed, changed } = diff.tests;
  if (added.length) lines.push(`  tests added: ${added.join(", ")}`);
  if (removed.length) lines.push(`  tests removed: ${removed.join(", ")}`);
  if (changed.length) lines.push(`  tests changed: ${changed.join(", ")}`);
  return lines;
}

/** The diff in words, one change per line, then the test decisions that change. */
export function formatDiff(
  diff: PolicyDiff,
  changes: DecisionChange[] | null,
  style: TextStyle,
): string {
  const lines = formatChanges(diff, style);
  if (diff.reordered_only) {
    lines.push("  (only the order of entries differs; decisions cannot change)");
  }
  if (changes === null) {
    lines.push("Test decisions: not compared (this CLI cannot compile the live policy).");
  } else if (changes.length > 0) {
    lines.push("Test decisions that change:");
    for (const change of changes) {
      lines.push(`  ${change.name}: ${change.from} → ${change.to}`);
    }
  } else if (!diff.identical) {
    lines.push("No test decision changes.");
  }
  return `${lines.join("\n")}\n`;
}

function counted(parts: [number, string][]): string {
  return parts.filter(([count]) => count > 0)
    .map(([count, word]) => `${count.toLocaleString("en-US")} ${word}`).join(", ");
}

/** The diff as counts, one line per part that changed: for diffs too long to read whole. */
export function summarizeDiff(diff: PolicyDiff, changes: DecisionChange[] | null): string {
  const lines: string[] = [];
  if (diff.fields.length > 0) {
    lines.push(`  fields changed: ${diff.fields.map((field) => field.field).join(", ")}`);
  }
  for (const section of diff.sections) {
    lines.push(
      `  ${section.section}: ${
        counted([
          [section.added.length, "added"],
          [section.removed.length, "removed"],
          [section.changed.length, "changed"],
        ])
      }`,
    );
  }
  const { added, removed, changed } = diff.tests;
  const tests = counted([[added.length, "added"], [removed.length, "removed"], [
    changed.length,
    "changed",
  ]]);
  if (tests) lines.push(`  tests: ${tests}`);
  if (diff.reordered_only) lines.push("  (only the order of entries differs)");
  if (changes === null) lines.push("  test decisions: not compared");
  else lines.push(`  test decisions that change: ${changes.length.toLocaleString("en-US")}`);
  return `${lines.join("\n")}\n`;
}

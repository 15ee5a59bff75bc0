/**
 * The local semantic checks that a schema cannot express: topic syntax, placeholders,
 * selectors, and the warnings of the policy reference (risky grants, redundant and duplicate
 * rules). Only parts of the document that passed the schema are checked.
 */

import type { Policy, Publisher, Rule } from "./types.ts";
import type { FindingList } from "./findings.ts";
import { compileTemplate, type PlaceholderUse } from "./template.ts";
import { parseSelector } from "./selector.ts";
import { parseSharedSubscription, topicError } from "./topic.ts";
import { ruleLevelLimitError } from "./platform_limits.ts";
import { type CompiledRule, compilePolicy } from "./compile.ts";
import { PUB, SUB } from "./action_bits.ts";
import { levelsContain } from "./match.ts";
import type { RuleIndex } from "./rule_index.ts";

/** Pointers of elements (or sections) the schema found broken. */
export class BrokenParts {
  readonly #elements = new Set<string>();

  constructor(pointers: string[]) {
    for (const pointer of pointers) {
      const tokens = pointer.split("/");
      // "", "/rules", "/rules/3": the document, a section, or one element.
      this.#elements.add(tokens.slice(0, Math.min(tokens.length, 3)).join("/"));
    }
  }

  /** Whether an element (e.g. `/rules/3`) and everything above it passed the schema. */
  isClean(elementPointer: string): boolean {
    if (this.#elements.has("")) return false;
    const section = elementPointer.split("/").slice(0, 2).join("/");
    return !this.#elements.has(section) && !this.#elements.has(elementPointer);
  }
}

function checkTopic(
  findings: FindingList,
  pointer: string,
  topic: string,
  binding: string | undefined,
  version: Policy["version"],
): PlaceholderUse[] | null {
  const topicPointer = pointer;
  const problem = topicError(topic, "filter");
  if (problem) {
    findings.error("invalid_topic", topicPointer, `invalid topic "${topic}": ${problem}`);
    return null;
  }
  if (topic.startsWith("$share/")) {
    const shared = parseSharedSubscription(topic);
    const inner = "error" in shared ? "<filter>" : shared.filter;
    findings.error(
      "shared_subscription_in_rule",
      topicPointer,
      `rules take the plain filter: write "${inner}" instead of "${topic}" ` +
        "(a $share/<group>/ subscription is checked against its filter)",
    );
    return null;
  }
  const tooDeep = ruleLevelLimitError(topic);
  if (tooDeep) findings.warning("topic_over_level_limit", topicPointer, tooDeep);
  const template = compileTemplate(topic, { binding, version });
  for (const error of template.errors) {
    findings.error(error.code, topicPointer, `${error.message} in topic "${topic}"`);
  }
  return template.errors.length > 0 ? null : template.placeholders;
}

function checkSelector(findings: FindingList, pointer: string, field: string, text: string) {
  const selector = parseSelector(text);
  if ("error" in selector) {
    findings.error(
      "invalid_user_selector",
      `${pointer}/${field}`,
      `invalid ${field} ${selector.error}`,
    );
  }
}

function coversPublish(action: Rule["action"]): boolean {
  return action === "pub" || action === "pub+sub";
}

function coversSubscribe(action: Rule["action"]): boolean {
  return action === "sub" || action === "pub+sub";
}

function checkRule(
  findings: FindingList,
  rule: Rule,
  pointer: string,
  version: Policy["version"],
): void {
  const placeholders = checkTopic(findings, `${pointer}/topic`, rule.topic, rule.binding, version);
  if (rule.user !== undefined) checkSelector(findings, pointer, "user", rule.user);
  if (!placeholders) return;
  const channels = placeholders.filter((use) => use.kind === "channel");
  const usesBinding = rule.binding !== undefined &&
    placeholders.some((use) => use.kind === "claim" && use.name === rule.binding);
  if (channels.length > 0 && rule.require_grant !== true) {
    findings.warning(
      "channel_without_require_grant",
      pointer,
      "channel binding without require_grant",
    );
  }
  if (rule.require_grant === true && channels.length === 0) {
    findings.warning(
      "require_grant_unused",
      `${pointer}/require_grant`,
      `require_grant has no effect: the topic "${rule.topic}" has no channel placeholder`,
      { atKey: true },
    );
  }
  if (rule.binding !== undefined && !usesBinding && channels.length === 0) {
    findings.warning(
      "binding_unused",
      `${pointer}/binding`,
      `binding "${rule.binding}" is not used: the topic has no {$self}, {${rule.binding}} ` +
        "or channel placeholder",
      { atKey: true },
    );
  }
  const allows = (rule.effect ?? "allow") === "allow";
  const everyone = (rule.user ?? "*") === "*";
  if (allows && everyone && coversSubscribe(rule.action) && /^(#|\+\/#)$/.test(rule.topic)) {
    findings.warning(
      "subscribe_everything",
      pointer,
      `grants subscribe on "${rule.topic}" to every user: each client receives every message`,
    );
  }
  if (allows && coversPublish(rule.action) && /^\$SYS(\/|$)/.test(rule.topic)) {
    findings.warning(
      "publish_sys",
      pointer,
      "allows publishing to $SYS topics, which brokers reserve for their own status",
    );
  }
  if (rule.retain !== undefined && !coversPublish(rule.action)) {
    findings.warning(
      "retain_without_publish",
      `${pointer}/retain`,
      `"retain" has no effect on a sub rule: it limits retained publishes`,
      { atKey: true },
    );
  }
}

function checkPublisher(
  findings: FindingList,
  publisher: Publisher,
  pointer: string,
  version: Policy["version"],
): void {
  checkSelector(findings, pointer, "identity", publisher.identity);
  publisher.topics.forEach((topic, t) => {
    const topicPointer = `${pointer}/topics/${t}`;
    const placeholders = checkTopic(findings, topicPointer, topic, undefined, version);
    if (placeholders?.some((use) => use.kind === "channel")) {
      findings.error(
        "publisher_channel",
        topicPointer,
        `publisher topics cannot use channel placeholders ("${topic}"); use + for any level`,
      );
    }
    if (/^\$SYS(\/|$)/.test(topic)) {
      findings.warning(
        "publish_sys",
        topicPointer,
        "allows publishing to $SYS topics, which brokers reserve for their own status",
      );
    }
  });
}

function canonical(rule: CompiledRule): string {
  return JSON.stringify([
    rule.topic,
    rule.actions,
    rule.selector.text,
    rule.effect,
    rule.qosMask,
    rule.retain,
    rule.binding ?? null,
    rule.requireGrant,
  ]);
}

function redundantGiven(inner: CompiledRule, outer: CompiledRule): boolean {
  if (outer.id === inner.id || outer.effect !== inner.effect) return false;
  if ((outer.actions & inner.actions) !== inner.actions) return false;
  if ((outer.qosMask & inner.qosMask) !== inner.qosMask) return false;
  if ((inner.actions & PUB) && inner.retain && !outer.retain) return false;
  if (outer.hasTemplate) {
    if (outer.binding !== inner.binding || outer.requireGrant !== inner.requireGrant) return false;
  }
  return levelsContain(outer.levels, inner.levels);
}

function describe(rule: CompiledRule): string {
  return `${rule.path} (${rule.topic})`;
}

/** Warns about rules that repeat or are wholly covered by another rule. */
function checkOverlaps(findings: FindingList, rules: CompiledRule[], index: RuleIndex) {
  const firstByKey = new Map<string, CompiledRule>();
  const candidates: CompiledRule[] = [];
  for (const rule of rules) {
    const key = canonical(rule);
    const twin = firstByKey.get(key);
    if (twin) {
      findings.warning("duplicate_rule", rule.pointer, `duplicate of ${describe(twin)}`);
      continue;
    }
    firstByKey.set(key, rule);
    candidates.length = 0;
    index.containing(rule, rule.actions & PUB ? PUB : SUB, candidates);
    let cover: CompiledRule | null = null;
    for (const outer of candidates) {
      if (!redundantGiven(rule, outer)) continue;
      // Two rules covering each other: only the later one is redundant.
      if (redundantGiven(outer, rule) && outer.id > rule.id) continue;
      if (cover === null || outer.id < cover.id) cover = outer;
    }
    if (cover) {
      const verb = rule.effect === "deny" ? "denies" : "allows";
      findings.warning(
        "redundant_rule",
        rule.pointer,
        `redundant: ${describe(cover)} already ${verb} everything this rule ${verb}`,
      );
    }
  }
}

/**
 * Adds the semantic findings for the parts of `policy` that passed the schema. `broken` holds
 * the parts too damaged to check; `flagged` every part with any schema finding, which the
 * overlap checks skip because its meaning is in doubt.
 */
export function addSemanticFindings(
  findings: FindingList,
  policy: Policy,
  broken: BrokenParts,
  flagged: BrokenParts,
): void {
  // An unusable version is reported by the schema; check placeholders as the newest version.
  const version = broken.isClean("/version") ? policy.version : "2.2";
  if (broken.isClean("/default") && policy.default === "allow") {
    findings.warning(
      "default_allow",
      "/default",
      `default "allow" permits every request that no rule denies; prefer "deny"`,
    );
  }
  const sections = [["global", policy.global], ["rules", policy.rules]] as const;
  for (const [section, rules] of sections) {
    if (!Array.isArray(rules) || !broken.isClean(`/${section}`)) continue;
    rules.forEach((rule, i) => {
      const pointer = `/${section}/${i}`;
      if (broken.isClean(pointer)) checkRule(findings, rule, pointer, version);
    });
  }
  if (Array.isArray(policy.publishers) && broken.isClean("/publishers")) {
    policy.publishers.forEach((publisher, i) => {
      const pointer = `/publishers/${i}`;
      if (broken.isClean(pointer)) checkPublisher(findings, publisher, pointer, version);
    });
  }
  const ruleCount = [policy.global, policy.rules, policy.publishers]
    .reduce((sum, section) => sum + (Array.isArray(section) ? section.length : 0), 0);
  if (ruleCount === 0 && broken.isClean("/default")) {
    findings.warning(
      "no_rules",
      "",
      `the policy has no rules, so every request gets the default (${policy.default})`,
    );
  }
  if (Array.isArray(policy.tests) && broken.isClean("/tests")) {
    const names = new Map<string, number>();
    policy.tests.forEach((test, i) => {
      if (!broken.isClean(`/tests/${i}`)) return;
      const earlier = names.get(test.name);
      if (earlier !== undefined) {
        findings.warning(
          "duplicate_test_name",
          `/tests/${i}/name`,
          `test name "${test.name}" is also used by tests[${earlier}]`,
        );
      } else names.set(test.name, i);
    });
  }
  const list = <T>(value: T[] | undefined): T[] => Array.isArray(value) ? value : [];
  const compilable: Policy = {
    version,
    default: "deny",
    global: list(policy.global),
    rules: list(policy.rules),
    publishers: list(policy.publishers),
  };
  const compiled = compilePolicy(compilable, {
    include: (pointer) => flagged.isClean(pointer),
    onError: () => {},
  });
  checkOverlaps(findings, compiled.rules, compiled.index);
}

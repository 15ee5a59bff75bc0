/**
 * Compiles a validated policy into rules ready to evaluate and an index that finds, for a
 * request, the few rules that can apply.
 */

import type { Effect, Policy, PolicyVersion, QoS, Rule, Section } from "./types.ts";
import { compileTemplate, type Level, TMPL } from "./template.ts";
import { parseSelector, type Selector } from "./selector.ts";
import { topicError } from "./topic.ts";
import { RuleIndex } from "./rule_index.ts";
import { PUB, SUB } from "./action_bits.ts";

/** One rule (or one topic of a publisher) ready to evaluate. */
export interface CompiledRule {
  /** Position in document order: `global`, then `rules`, then each publisher's topics. */
  id: number;
  section: Section;
  /** Index inside its section. */
  index: number;
  /** JSON pointer of the rule, or of the topic inside a publisher. */
  pointer: string;
  /** Human path, e.g. `rules[0]` or `publishers[1]`. */
  path: string;
  line: number | null;
  topic: string;
  /** PUB, SUB or both. */
  actions: number;
  selector: Selector;
  effect: Effect;
  /** Bit q set when QoS q is allowed. */
  qosMask: number;
  retain: boolean;
  binding: string | undefined;
  requireGrant: boolean;
  levels: Level[];
  hasTemplate: boolean;
}

/** A policy ready for `evaluate`. */
export interface CompiledPolicy {
  version: PolicyVersion;
  default: Effect;
  rules: CompiledRule[];
  index: RuleIndex;
}

/** Raised when a policy that was not validated cannot be compiled. */
export class PolicyCompileError extends Error {
  constructor(readonly pointer: string, message: string) {
    super(message);
    this.name = "PolicyCompileError";
  }
}

/** Options of `compilePolicy`. */
export interface CompileOptions {
  /** Gives the 1-based line of a JSON pointer in the policy's file. */
  lineOf?: (pointer: string) => number | null;
  /** Compiles only the rules (and publishers) whose element pointer passes; default all. */
  include?: (pointer: string) => boolean;
  /** Skips a rule that cannot be compiled and reports it here, instead of throwing. */
  onError?: (pointer: string, message: string) => void;
}

function qosMask(qos: QoS[] | undefined): number {
  if (!qos) return 0b111;
  let mask = 0;
  for (const q of qos) mask |= 1 << q;
  return mask;
}

interface RuleSource {
  section: Section;
  index: number;
  pointer: string;
  path: string;
  topic: string;
  actions: number;
  selectorText: string;
  effect: Effect;
  qos: QoS[] | undefined;
  retain: boolean | undefined;
  binding: string | undefined;
  requireGrant: boolean;
}

function ruleSource(section: "global" | "rules", rule: Rule, index: number): RuleSource {
  return {
    section,
    index,
    pointer: `/${section}/${index}`,
    path: `${section}[${index}]`,
    topic: rule.topic,
    actions: rule.action === "pub" ? PUB : rule.action === "sub" ? SUB : PUB | SUB,
    selectorText: rule.user ?? "*",
    effect: rule.effect ?? "allow",
    qos: rule.qos,
    retain: rule.retain,
    binding: rule.binding,
    requireGrant: rule.require_grant === true,
  };
}

/** Every rule of a policy in document order, publishers expanded to one rule per topic. */
function ruleSources(policy: Policy): RuleSource[] {
  const sources: RuleSource[] = [];
  (policy.global ?? []).forEach((rule, i) => sources.push(ruleSource("global", rule, i)));
  (policy.rules ?? []).forEach((rule, i) => sources.push(ruleSource("rules", rule, i)));
  (policy.publishers ?? []).forEach((publisher, i) => {
    publisher.topics.forEach((topic, t) =>
      sources.push({
        section: "publishers",
        index: i,
        pointer: `/publishers/${i}/topics/${t}`,
        path: `publishers[${i}]`,
        topic,
        actions: PUB,
        selectorText: publisher.identity,
        effect: "allow",
        qos: publisher.qos,
        retain: publisher.retain,
        binding: undefined,
        requireGrant: false,
      })
    );
  });
  return sources;
}

/**
 * Compiles a policy. The policy should have passed validation; anything that would make a
 * rule ambiguous throws `PolicyCompileError` (or goes to `onError`) instead of compiling to a
 * guess.
 */
export function compilePolicy(policy: Policy, options: CompileOptions = {}): CompiledPolicy {
  const rules: CompiledRule[] = [];
  const fail = options.onError ?? ((pointer: string, message: string) => {
    throw new PolicyCompileError(pointer, message);
  });
  for (const source of ruleSources(policy)) {
    const rulePointer = source.section === "publishers"
      ? `/publishers/${source.index}`
      : source.pointer;
    if (options.include && !options.include(rulePointer)) continue;
    const topicProblem = topicError(source.topic, "filter");
    if (topicProblem) {
      fail(source.pointer, topicProblem);
      continue;
    }
    const template = compileTemplate(source.topic, {
      binding: source.binding,
      version: policy.version,
    });
    if (template.errors.length > 0) {
      fail(source.pointer, template.errors[0].message);
      continue;
    }
    const selector = parseSelector(source.selectorText);
    if ("error" in selector) {
      fail(source.pointer, selector.error);
      continue;
    }
    rules.push({
      id: rules.length,
      section: source.section,
      index: source.index,
      pointer: source.pointer,
      path: source.path,
      line: options.lineOf?.(rulePointer) ?? null,
      topic: source.topic,
      actions: source.actions,
      selector,
      effect: source.effect,
      qosMask: qosMask(source.qos),
      retain: source.retain ?? true,
      binding: source.binding,
      requireGrant: source.requireGrant,
      levels: template.levels,
      hasTemplate: template.levels.some((level) => level.kind === TMPL),
    });
  }
  const index = new RuleIndex();
  for (const rule of rules) index.add(rule);
  return { version: policy.version, default: policy.default, rules, index };
}

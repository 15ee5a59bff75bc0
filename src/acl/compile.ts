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
export class CompiledRule {
  constructor(
    /** Position in document order: `global`, then `rules`, then each publisher's topics. */
    readonly id: number,
    readonly section: Section,
    /** Index inside its section. */
    readonly index: number,
    /** For a publisher: which of its topics this is; -1 otherwise. */
    readonly topicIndex: number,
    readonly line: number | null,
    readonly topic: string,
    /** PUB, SUB or both. */
    readonly actions: number,
    readonly selector: Selector,
    readonly effect: Effect,
    /** Bit q set when QoS q is allowed. */
    readonly qosMask: number,
    readonly retain: boolean,
    readonly binding: string | undefined,
    readonly requireGrant: boolean,
    readonly levels: Level[],
    readonly hasTemplate: boolean,
  ) {}

  /** JSON pointer of the rule, or of the topic inside a publisher. */
  get pointer(): string {
    const element = `/${this.section}/${this.index}`;
    return this.topicIndex < 0 ? element : `${element}/topics/${this.topicIndex}`;
  }

  /** Human path, e.g. `rules[0]` or `publishers[1]`. */
  get path(): string {
    return `${this.section}[${this.index}]`;
  }
}

/** Bits of `RuleTable.flags`: the allowed QoS levels in bits 0 to 2, then these. */
export const DENY_FLAG = 1 << 3;
/** The rule allows retained publishes. */
export const RETAIN_FLAG = 1 << 4;
/** The rule's topic has placeholders: the matcher must confirm the index's candidate. */
export const TEMPLATE_FLAG = 1 << 5;

const SECTIONS: Section[] = ["global", "rules", "publishers"];

/**
 * What a decision reads about a rule, in flat arrays by rule id: a decision on a rule
 * without placeholders reads no rule object, which keeps large policies fast (see
 * docs/decisions.md, "The rule index").
 */
export class RuleTable {
  readonly flags: Int32Array;
  readonly #place: Int32Array;
  readonly #line: Int32Array;
  readonly topics: string[];

  constructor(rules: CompiledRule[]) {
    const count = rules.length;
    this.flags = new Int32Array(count);
    this.#place = new Int32Array(count * 3);
    this.#line = new Int32Array(count);
    this.topics = new Array(count);
    for (const rule of rules) {
      const id = rule.id;
      this.flags[id] = rule.qosMask | (rule.effect === "deny" ? DENY_FLAG : 0) |
        (rule.retain ? RETAIN_FLAG : 0) | (rule.hasTemplate ? TEMPLATE_FLAG : 0);
      this.#place[id * 3] = SECTIONS.indexOf(rule.section);
      this.#place[id * 3 + 1] = rule.index;
      this.#place[id * 3 + 2] = rule.topicIndex;
      this.#line[id] = rule.line ?? -1;
      this.topics[id] = rule.topic;
    }
  }

  /** The rule's section. */
  section(id: number): Section {
    return SECTIONS[this.#place[id * 3]];
  }

  /** The rule's index in its section. */
  index(id: number): number {
    return this.#place[id * 3 + 1];
  }

  /** The rule's JSON pointer (for publishers, of the topic inside it). */
  pointer(id: number): string {
    const topicIndex = this.#place[id * 3 + 2];
    const element = `/${this.section(id)}/${this.index(id)}`;
    return topicIndex < 0 ? element : `${element}/topics/${topicIndex}`;
  }

  /** The rule's line in its file, or null. */
  line(id: number): number | null {
    const line = this.#line[id];
    return line < 0 ? null : line;
  }
}

/** A policy ready for `evaluate`. */
export interface CompiledPolicy {
  version: PolicyVersion;
  default: Effect;
  rules: CompiledRule[];
  table: RuleTable;
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
  topicIndex: number;
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
    topicIndex: -1,
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
    publisher.topics.forEach((topic, t) => {
      sources.push({
        section: "publishers",
        index: i,
        topicIndex: t,
        topic,
        actions: PUB,
        selectorText: publisher.identity,
        effect: "allow",
        qos: publisher.qos,
        retain: publisher.retain,
        binding: undefined,
        requireGrant: false,
      });
    });
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
  // Rules share selectors and plain levels: one object for each distinct text.
  const selectors = new Map<string, Selector>();
  const levels = new Map<string, Level>();
  const pointerOf = (source: RuleSource) =>
    `/${source.section}/${source.index}` +
    (source.topicIndex < 0 ? "" : `/topics/${source.topicIndex}`);
  for (const source of ruleSources(policy)) {
    if (options.include && !options.include(`/${source.section}/${source.index}`)) continue;
    const topicProblem = topicError(source.topic, "filter");
    if (topicProblem) {
      fail(pointerOf(source), topicProblem);
      continue;
    }
    const template = compileTemplate(source.topic, {
      binding: source.binding,
      version: policy.version,
    }, levels);
    if (template.errors.length > 0) {
      fail(pointerOf(source), template.errors[0].message);
      continue;
    }
    let selector = selectors.get(source.selectorText);
    if (!selector) {
      const parsed = parseSelector(source.selectorText);
      if ("error" in parsed) {
        fail(pointerOf(source), parsed.error);
        continue;
      }
      selectors.set(source.selectorText, selector = parsed);
    }
    rules.push(
      new CompiledRule(
        rules.length,
        source.section,
        source.index,
        source.topicIndex,
        options.lineOf?.(`/${source.section}/${source.index}`) ?? null,
        source.topic,
        source.actions,
        selector,
        source.effect,
        qosMask(source.qos),
        source.retain ?? true,
        source.binding,
        source.requireGrant,
        template.levels,
        template.levels.some((level) => level.kind === TMPL),
      ),
    );
  }
  return {
    version: policy.version,
    default: policy.default,
    rules,
    table: new RuleTable(rules),
    index: new RuleIndex(rules),
  };
}

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
import { ruleFlags } from "./rule_flags.ts";

const NO_TEMPLATES: (number | Level)[] = [];

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
  ) {
    this.templates = hasTemplate ? [] : NO_TEMPLATES;
    for (let i = 0; hasTemplate && i < levels.length; i++) {
      if (levels[i].kind === TMPL) this.templates.push(i, levels[i]);
    }
  }

  /**
   * The placeholder levels, as position then level, alternating: all the matcher must check
   * for a candidate the index found, whose other levels the index already matched.
   */
  readonly templates: (number | Level)[];

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

const SECTIONS: Section[] = ["global", "rules", "publishers"];

/** Ints per rule in `RuleTable.data`: flags, section, index, topic index, line. */
const RECORD = 8;

/**
 * What a decision reads about a rule, in one flat record per rule id (32 bytes: two rules
 * per cache line): a decision on a rule without placeholders reads no rule object, which
 * keeps large policies fast (see docs/decisions.md, "The rule index").
 */
export class RuleTable {
  readonly data: Int32Array;
  readonly topics: string[];
  /** Pointers built so far (a decision reports one; converting numbers costs). */
  readonly #pointers: (string | undefined)[];

  constructor(rules: CompiledRule[]) {
    const data = this.data = new Int32Array(rules.length * RECORD);
    this.topics = new Array(rules.length);
    this.#pointers = new Array(rules.length);
    for (const rule of rules) {
      const at = rule.id * RECORD;
      data[at] = ruleFlags(rule);
      data[at + 1] = SECTIONS.indexOf(rule.section);
      data[at + 2] = rule.index;
      data[at + 3] = rule.topicIndex;
      data[at + 4] = rule.line ?? -1;
      this.topics[rule.id] = rule.topic;
    }
  }

  /** The rule's flags (see rule_flags.ts). */
  flags(id: number): number {
    return this.data[id * RECORD];
  }

  /** The rule's section. */
  section(id: number): Section {
    return SECTIONS[this.data[id * RECORD + 1]];
  }

  /** The rule's index in its section. */
  index(id: number): number {
    return this.data[id * RECORD + 2];
  }

  /** The rule's JSON pointer (for publishers, of the topic inside it). */
  pointer(id: number): string {
    const known = this.#pointers[id];
    if (known !== undefined) return known;
    const topicIndex = this.data[id * RECORD + 3];
    const element = `/${this.section(id)}/${this.index(id)}`;
    return this.#pointers[id] = topicIndex < 0 ? element : `${element}/topics/${topicIndex}`;
  }

  /** The rule's line in its file, or null. */
  line(id: number): number | null {
    const line = this.data[id * RECORD + 4];
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

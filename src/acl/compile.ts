/**
 * Compiles a validated policy into rules ready to evaluate and an index that finds, for a
 * request, the few rules that can apply.
 */

import type { Effect, Policy, PolicyVersion, Publisher, QoS, Rule, Section } from "./types.ts";
import { compileTemplate, type Level, TMPL } from "./template.ts";
import { parseSelector, type Selector } from "./selector.ts";
import { topicError } from "./topic.ts";
import { RuleIndex, type RuleRecords } from "./rule_index.ts";
import { PUB, SUB } from "./action_bits.ts";
import { FLAG_BITS, ruleFlags } from "./rule_flags.ts";
import { policyShapeProblem, publisherShapeProblem, ruleShapeProblem } from "./rule_shape.ts";
import { type RuleScan, ruleScan } from "./rule_scan.ts";

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

/** Ints in a rule's record. */
export const RECORD_INTS = 7;
const ENTRY = 0; // the rule id, then its flags (rule_flags.ts) in the low FLAG_BITS bits
const INDEX_SECTION = 1; // the index in its section, then the section's number in 2 bits
const LINE = 2; // -1 when unknown
const TEMPLATE_AT = 3; // the placeholder level's position; -1 none; MANY_TEMPLATES
const TEMPLATE_LEVEL = 4; // index in `RuleTable.templateLevels`
const BINDING = 5; // index in `RuleTable.bindings`, REQUIRE_GRANT bit
const TEMPLATE_SPAN = 6; // the placeholder level in the topic: first unit, then end << 16

/** Rules (publisher topics counted one by one) whose ids fit a record beside their flags. */
const MAX_RULES = (1 << (31 - FLAG_BITS)) - 1;

/** `TEMPLATE_AT` of a rule with two or more placeholder levels (read from its rule object). */
export const MANY_TEMPLATES = -2;
const REQUIRE_GRANT = 1 << 30;

/** Where `levels[at]` starts in the topic the levels were split from. */
function levelStart(levels: Level[], at: number): number {
  let start = 0;
  for (let i = 0; i < at; i++) start += levels[i].text.length + 1;
  return start;
}

/**
 * What a decision reads about a rule, as a flat record of `RECORD_INTS` ints that the index
 * stores in the rule list where it finds the rule (so a candidate's record shares the cache
 * line and page the walk just read), with the rule's topic and pointer side by side in
 * `strings`: a decision reads no rule object, which keeps large policies fast (see
 * docs/performance.md). A rule with one placeholder level (the usual case) keeps that level
 * in its record too; only rules with several are checked through their `CompiledRule`.
 */
export class RuleTable implements RuleRecords {
  readonly ints = RECORD_INTS;
  /** Topic then pointer of each rule: `strings[2 * id]`, `strings[2 * id + 1]`. */
  readonly strings: string[];
  /** The distinct placeholder levels of single-placeholder rules. */
  readonly templateLevels: Level[] = [];
  /** The distinct bindings of those rules. */
  readonly bindings: (string | undefined)[] = [];
  readonly #levelIds = new Map<Level, number>();
  readonly #bindingIds = new Map<string | undefined, number>();

  constructor(private readonly rules: CompiledRule[]) {
    const strings = this.strings = new Array(rules.length * 2);
    for (const rule of rules) {
      strings[2 * rule.id] = rule.topic;
      strings[2 * rule.id + 1] = rule.pointer;
    }
  }

  /** Writes rule `id`'s record into `data` at `at`. */
  write(id: number, data: Int32Array, at: number): void {
    const rule = this.rules[id];
    data[at + ENTRY] = (id << FLAG_BITS) | ruleFlags(rule);
    data[at + INDEX_SECTION] = (rule.index << 2) | SECTIONS.indexOf(rule.section);
    data[at + LINE] = rule.line ?? -1;
    data[at + TEMPLATE_AT] = -1;
    const templates = rule.templates;
    if (templates.length > 2) data[at + TEMPLATE_AT] = MANY_TEMPLATES;
    else if (templates.length === 2) {
      const position = templates[0] as number;
      const level = templates[1] as Level;
      let levelId = this.#levelIds.get(level);
      if (levelId === undefined) {
        this.#levelIds.set(level, levelId = this.templateLevels.length);
        this.templateLevels.push(level);
      }
      let bindingId = this.#bindingIds.get(rule.binding);
      if (bindingId === undefined) {
        this.#bindingIds.set(rule.binding, bindingId = this.bindings.length);
        this.bindings.push(rule.binding);
      }
      const start = levelStart(rule.levels, position);
      data[at + TEMPLATE_AT] = position;
      data[at + TEMPLATE_LEVEL] = levelId;
      data[at + BINDING] = bindingId | (rule.requireGrant ? REQUIRE_GRANT : 0);
      data[at + TEMPLATE_SPAN] = start | (start + level.text.length) << 16;
    }
  }

  /** The rule's id. */
  id(data: Int32Array, at: number): number {
    return data[at + ENTRY] >> FLAG_BITS;
  }

  /** The rule's section. */
  section(data: Int32Array, at: number): Section {
    return SECTIONS[data[at + INDEX_SECTION] & 3];
  }

  /** The rule's index in its section. */
  index(data: Int32Array, at: number): number {
    return data[at + INDEX_SECTION] >> 2;
  }

  /** The rule's topic as written. */
  topic(id: number): string {
    return this.strings[2 * id];
  }

  /** The rule's JSON pointer (for publishers, of the topic inside it). */
  pointer(id: number): string {
    return this.strings[2 * id + 1];
  }

  /** The rule's line in its file, or null. */
  line(data: Int32Array, at: number): number | null {
    const line = data[at + LINE];
    return line < 0 ? null : line;
  }

  /** Position of the rule's placeholder level; -1 without one; `MANY_TEMPLATES`. */
  templateAt(data: Int32Array, at: number): number {
    return data[at + TEMPLATE_AT];
  }

  /** The placeholder level of a rule with exactly one. */
  templateLevel(data: Int32Array, at: number): Level {
    return this.templateLevels[data[at + TEMPLATE_LEVEL]];
  }

  /** The binding of a rule with exactly one placeholder level. */
  binding(data: Int32Array, at: number): string | undefined {
    return this.bindings[data[at + BINDING] & (REQUIRE_GRANT - 1)];
  }

  /** Whether a rule with exactly one placeholder level has `require_grant`. */
  requireGrant(data: Int32Array, at: number): boolean {
    return (data[at + BINDING] & REQUIRE_GRANT) !== 0;
  }

  /** Where the placeholder level of a rule with exactly one starts in its topic. */
  templateStart(data: Int32Array, at: number): number {
    return data[at + TEMPLATE_SPAN] & 0xffff;
  }

  /** Where that level ends in the topic. */
  templateEnd(data: Int32Array, at: number): number {
    return data[at + TEMPLATE_SPAN] >>> 16;
  }
}

/** A policy ready for `evaluate`. */
export interface CompiledPolicy {
  version: PolicyVersion;
  default: Effect;
  rules: CompiledRule[];
  table: RuleTable;
  index: RuleIndex;
  /** A small policy's rules for the scan that decides it instead of the index; else null. */
  scan: RuleScan | null;
}

/**
 * Raised when a policy that was not validated cannot be compiled. `code` is a validation
 * finding code: `malformed_policy` when a part is not of the shape the compiler reads,
 * `invalid_topic`, a placeholder code (`binding_required`, ...), `invalid_user_selector`, or
 * `too_many_rules`.
 */
export class PolicyCompileError extends Error {
  constructor(readonly pointer: string, message: string, readonly code = "malformed_policy") {
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
  onError?: (pointer: string, message: string, code: string) => void;
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

type Fail = (pointer: string, message: string, code: string) => void;

/**
 * Every rule of a policy in document order, publishers expanded to one rule per topic. An
 * element is read only when `include` passes its pointer and it has the shape the compiler
 * reads; otherwise it goes to `fail`.
 */
function ruleSources(
  policy: Policy,
  include: (pointer: string) => boolean,
  fail: Fail,
): RuleSource[] {
  const sources: RuleSource[] = [];
  for (const section of ["global", "rules"] as const) {
    (policy[section] ?? []).forEach((rule: unknown, i) => {
      const pointer = `/${section}/${i}`;
      if (!include(pointer)) return;
      const problem = ruleShapeProblem(rule, pointer);
      if (problem) fail(problem.pointer, problem.message, "malformed_policy");
      else sources.push(ruleSource(section, rule as Rule, i));
    });
  }
  (policy.publishers ?? []).forEach((publisher: unknown, i) => {
    const pointer = `/publishers/${i}`;
    if (!include(pointer)) return;
    const problem = publisherShapeProblem(publisher, pointer);
    if (problem) return fail(problem.pointer, problem.message, "malformed_policy");
    const { topics, identity, qos, retain } = publisher as Publisher;
    topics.forEach((topic, t) => {
      sources.push({
        section: "publishers",
        index: i,
        topicIndex: t,
        topic,
        actions: PUB,
        selectorText: identity,
        effect: "allow",
        qos,
        retain,
        binding: undefined,
        requireGrant: false,
      });
    });
  });
  return sources;
}

/**
 * Compiles a policy. The policy should have passed validation; anything that would make a
 * rule ambiguous or that is not of the policy's shape throws `PolicyCompileError` (or, for one
 * element, goes to `onError`) instead of compiling to a guess.
 */
export function compilePolicy(policy: Policy, options: CompileOptions = {}): CompiledPolicy {
  const shape = policyShapeProblem(policy);
  if (shape) throw new PolicyCompileError(shape.pointer, shape.message);
  const rules: CompiledRule[] = [];
  const fail: Fail = options.onError ?? ((pointer, message, code) => {
    throw new PolicyCompileError(pointer, message, code);
  });
  // Rules share selectors and plain levels: one object for each distinct text.
  const selectors = new Map<string, Selector>();
  const levels = new Map<string, Level>();
  const pointerOf = (source: RuleSource) =>
    `/${source.section}/${source.index}` +
    (source.topicIndex < 0 ? "" : `/topics/${source.topicIndex}`);
  for (const source of ruleSources(policy, options.include ?? (() => true), fail)) {
    const topicProblem = topicError(source.topic, "filter");
    if (topicProblem) {
      fail(pointerOf(source), topicProblem, "invalid_topic");
      continue;
    }
    const template = compileTemplate(source.topic, {
      binding: source.binding,
      version: policy.version,
    }, levels);
    if (template.errors.length > 0) {
      fail(pointerOf(source), template.errors[0].message, template.errors[0].code);
      continue;
    }
    let selector = selectors.get(source.selectorText);
    if (!selector) {
      const parsed = parseSelector(source.selectorText);
      if ("error" in parsed) {
        fail(pointerOf(source), parsed.error, "invalid_user_selector");
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
  if (rules.length > MAX_RULES) {
    // Far beyond what a 32 MiB policy file can hold; a record could not name the rule.
    throw new PolicyCompileError(
      "",
      `a policy may hold at most ${MAX_RULES} rules`,
      "too_many_rules",
    );
  }
  const table = new RuleTable(rules);
  return {
    version: policy.version,
    default: policy.default,
    rules,
    table,
    index: new RuleIndex(rules, table),
    scan: ruleScan(rules),
  };
}

/**
 * The small-policy path: a policy of a few dozen rules is decided by scanning all of its
 * rules in document order, each with a topic check chosen when the policy is compiled. The
 * request topic is read in place, never split into levels, and most rules are told apart by
 * a character or two. Up to `SCAN_LIMIT` rules this beats walking the index (measured in
 * docs/performance.md); the decisions are the same.
 */

import type { CompiledRule } from "./compile.ts";
import { HASH, type Level, LIT, PLUS } from "./template.ts";
import { ruleFlags } from "./rule_flags.ts";
import { type MatchState, templateMatchesRange } from "./match.ts";
import { PREFIX, type Selector } from "./selector.ts";
import { PUB, SUB } from "./action_bits.ts";

/** Policies with at most this many rules (publisher topics counted one by one) are scanned. */
export const SCAN_LIMIT = 32;

/** All levels literal: the topic (or filter) must equal the rule's topic. */
export const EQUALS = 0;
/** Literal levels, then `#`: the topic is the literal part, or starts with it and `/`. */
export const UNDER = 1;
/** `#` alone: every topic that does not start with `$`. */
export const EVERYTHING = 2;
/** `+` or placeholders: the topic starts with the literal levels, then the other levels. */
export const LEVELS = 3;

/** How a topic check reads a rule. */
export type TopicCheck = typeof EQUALS | typeof UNDER | typeof EVERYTHING | typeof LEVELS;

const DOLLAR = 36;
const PLUS_CHAR = 43;
const HASH_CHAR = 35;
const SLASH = 47;

/** One rule as the scan reads it: what a decision needs, without following other objects. */
export class ScannedRule {
  readonly id: number;
  /** PUB, SUB or both. */
  readonly actions: number;
  readonly selectorKind: Selector["kind"];
  readonly selectorValue: string;
  readonly check: TopicCheck;
  /** EQUALS: the topic; UNDER: the literal part; LEVELS: the literal levels, each with `/`. */
  readonly text: string;
  /** UNDER: the literal part and `/`, which a deeper topic starts with. */
  readonly under: string;
  /** The rule's flags (rule_flags.ts). */
  readonly flags: number;
  readonly levels: Level[];
  /** How many leading levels are literal. */
  readonly literal: number;
  readonly binding: string | undefined;
  readonly requireGrant: boolean;
  /** Whether the rule's topic has `+` or `#` (else a topic it matches is its resolved topic). */
  readonly wild: boolean;
  /** A prefix selector's number among the policy's distinct ones (a decision checks each once). */
  readonly prefixId: number;

  constructor(rule: CompiledRule, prefixId: number) {
    const levels = rule.levels;
    let literal = 0;
    while (literal < levels.length && levels[literal].kind === LIT) literal++;
    const prefix = levels.slice(0, literal).map((level) => level.text).join("/");
    this.id = rule.id;
    this.actions = rule.actions;
    this.selectorKind = rule.selector.kind;
    this.selectorValue = rule.selector.value;
    this.flags = ruleFlags(rule);
    this.levels = levels;
    this.literal = literal;
    this.binding = rule.binding;
    this.requireGrant = rule.requireGrant;
    this.wild = levels.some((level) => level.kind === PLUS || level.kind === HASH);
    this.prefixId = prefixId;
    this.under = "";
    if (literal === levels.length) {
      this.check = EQUALS;
      this.text = prefix;
    } else if (literal === levels.length - 1 && levels[literal].kind === HASH) {
      this.check = literal === 0 ? EVERYTHING : UNDER;
      this.text = prefix;
      this.under = `${prefix}/`;
    } else {
      this.check = LEVELS;
      this.text = literal === 0 ? "" : `${prefix}/`;
    }
  }
}

/** A small policy's rules as the scan reads them. */
export interface RuleScan {
  /** Every rule, in document order (indexed by rule id). */
  readonly rules: ScannedRule[];
  /** The rules covering publish, in document order. */
  readonly pub: ScannedRule[];
  /** The rules covering subscribe, in document order. */
  readonly sub: ScannedRule[];
}

/** A small policy's scan, or null when it has too many rules to scan. */
export function ruleScan(rules: CompiledRule[]): RuleScan | null {
  if (rules.length > SCAN_LIMIT) return null;
  const prefixes = new Map<string, number>();
  const scanned = rules.map((rule) => {
    const { kind, value } = rule.selector;
    let id = -1;
    if (kind === PREFIX) {
      id = prefixes.get(value) ?? prefixes.size;
      prefixes.set(value, id);
    }
    return new ScannedRule(rule, id);
  });
  return {
    rules: scanned,
    pub: scanned.filter((rule) => rule.actions & PUB),
    sub: scanned.filter((rule) => rule.actions & SUB),
  };
}

/**
 * Whether `text` starts with `prefix`. The last two units are compared first: they tell most
 * rules apart (rule prefixes end with a level and `/`), so a mismatch costs two reads.
 */
export function startsWith(text: string, prefix: string): boolean {
  const n = prefix.length;
  if (n === 0) return true;
  if (text.length < n || text.charCodeAt(n - 1) !== prefix.charCodeAt(n - 1)) return false;
  return n === 1 ||
    (text.charCodeAt(n - 2) === prefix.charCodeAt(n - 2) && text.startsWith(prefix));
}

/**
 * Whether the levels of a LEVELS rule after its literal prefix (which `topic` starts with)
 * match a valid topic name, or contain a valid filter, read in place: the decision
 * `matchLevels` makes, without splitting the topic.
 */
export function restMatches(scanned: ScannedRule, topic: string, state: MatchState): boolean {
  const levels = scanned.levels;
  const length = topic.length;
  const dollar = topic.charCodeAt(0) === DOLLAR;
  let from = scanned.text.length;
  for (let i = scanned.literal; i < levels.length; i++) {
    const level = levels[i];
    const kind = level.kind;
    if (kind === HASH) return !(i === 0 && dollar);
    if (from > length) return false;
    if (kind === LIT) {
      // The level must be the literal, then `/` or the end: no need to look for the `/`.
      const text = level.text;
      const to = from + text.length;
      if (to > length || (to < length && topic.charCodeAt(to) !== SLASH)) return false;
      if (!topic.startsWith(text, from)) return false;
      from = to + 1;
      continue;
    }
    let to = topic.indexOf("/", from);
    if (to < 0) to = length;
    if (to - from === 1) {
      const code = topic.charCodeAt(from);
      // Only a rule `#` here, or `+/#` as the whole rule, holds every topic `#` matches.
      if (code === HASH_CHAR) {
        return i === 0 && kind === PLUS && levels.length === 2 && levels[1].kind === HASH;
      }
      if (code === PLUS_CHAR) {
        if (kind !== PLUS) return false;
        from = to + 1;
        continue;
      }
    }
    if (kind === PLUS) {
      if (i === 0 && dollar) return false;
    } else if (!templateMatchesRange(level, topic, from, to, i === 0, state)) {
      return false;
    }
    from = to + 1;
  }
  return from === length + 1;
}

/**
 * The rule index: by action, then by user selector (exact map, prefix map, everyone), then a
 * trie over topic levels. A lookup returns a superset of the rules that can apply, so its cost
 * follows the request's depth and the rules near it, not the size of the policy.
 */

import type { CompiledRule } from "./compile.ts";
import { PUB, SUB } from "./action_bits.ts";
import { HASH, LIT, PLUS } from "./template.ts";
import { ANY, EXACT } from "./selector.ts";

/** A trie node: children by next level, and the rules that end here or in `#` here. */
class TrieNode {
  literal: Map<string, TrieNode> | null = null;
  plus: TrieNode | null = null;
  /** Template levels of every shape share one child; the matcher checks them. */
  template: TrieNode | null = null;
  /** Rules whose next (last) level is `#`. */
  hash: number[] | null = null;
  /** Rules whose topic ends at this node. */
  end: number[] | null = null;
}

function child(node: TrieNode, kind: number, text: string): TrieNode {
  if (kind === LIT) {
    node.literal ??= new Map();
    let next = node.literal.get(text);
    if (!next) node.literal.set(text, next = new TrieNode());
    return next;
  }
  if (kind === PLUS) return node.plus ??= new TrieNode();
  return node.template ??= new TrieNode();
}

function insert(root: TrieNode, rule: CompiledRule): void {
  let node = root;
  for (const level of rule.levels) {
    if (level.kind === HASH) {
      (node.hash ??= []).push(rule.id);
      return;
    }
    node = child(node, level.kind, level.text);
  }
  (node.end ??= []).push(rule.id);
}

/**
 * Adds to `out` every rule under `node` that may match request levels from `i` on. A
 * request `#` can only sit inside a rule `#` at the same level, or a whole-topic `+/#`.
 */
function collect(node: TrieNode, levels: string[], i: number, out: number[]): void {
  for (;;) {
    if (node.hash) { for (const id of node.hash) out.push(id); }
    if (i === levels.length) {
      if (node.end) { for (const id of node.end) out.push(id); }
      return;
    }
    const level = levels[i];
    if (level === "#") {
      if (i === 0 && node.plus?.hash) { for (const id of node.plus.hash) out.push(id); }
      return;
    }
    const next = level === "+" ? undefined : node.literal?.get(level);
    // Walk the literal branch in this loop and recurse into the others.
    if (node.plus) collect(node.plus, levels, i + 1, out);
    if (node.template && level !== "+") collect(node.template, levels, i + 1, out);
    if (!next) return;
    node = next;
    i++;
  }
}

/** The tries for one action, grouped by selector. */
class ActionIndex {
  readonly exact = new Map<string, TrieNode>();
  readonly prefix = new Map<string, TrieNode>();
  /** Distinct prefix lengths, ascending. */
  prefixLengths: number[] = [];
  any: TrieNode | null = null;

  add(rule: CompiledRule): void {
    const { kind, value } = rule.selector;
    let root: TrieNode | undefined;
    if (kind === ANY) root = this.any ??= new TrieNode();
    else {
      const map = kind === EXACT ? this.exact : this.prefix;
      root = map.get(value);
      if (!root) {
        map.set(value, root = new TrieNode());
        if (kind !== EXACT && !this.prefixLengths.includes(value.length)) {
          this.prefixLengths.push(value.length);
          this.prefixLengths.sort((a, b) => a - b);
        }
      }
    }
    insert(root, rule);
  }

  candidates(username: string, levels: string[], out: number[]): void {
    if (this.any) collect(this.any, levels, 0, out);
    if (this.exact.size > 0) {
      const root = this.exact.get(username);
      if (root) collect(root, levels, 0, out);
    }
    for (const length of this.prefixLengths) {
      if (length > username.length) break;
      const root = this.prefix.get(username.slice(0, length));
      if (root) collect(root, levels, 0, out);
    }
  }

  /** The trie holding rules with exactly this selector, if any. */
  rootFor(kind: number, value: string): TrieNode | null {
    if (kind === ANY) return this.any;
    return (kind === EXACT ? this.exact : this.prefix).get(value) ?? null;
  }
}

/** Finds the rules that may apply to a request without looking at the others. */
export class RuleIndex {
  readonly #pub = new ActionIndex();
  readonly #sub = new ActionIndex();

  /** Adds a compiled rule under each action it covers. */
  add(rule: CompiledRule): void {
    if (rule.actions & PUB) this.#pub.add(rule);
    if (rule.actions & SUB) this.#sub.add(rule);
  }

  /**
   * Appends to `out` the ids of rules that may apply to `action` by `username` on a topic
   * (or filter) split into `levels`. Every applicable rule is included; some may not apply.
   */
  candidates(action: number, username: string, levels: string[], out: number[]): void {
    (action === PUB ? this.#pub : this.#sub).candidates(username, levels, out);
  }

  /**
   * Appends to `out` the ids of rules with the same selector as `rule`, covering `action`,
   * whose topic may contain `rule`'s topic (template levels count as any literal level).
   */
  containing(rule: CompiledRule, action: number, out: number[]): void {
    const index = action === PUB ? this.#pub : this.#sub;
    const root = index.rootFor(rule.selector.kind, rule.selector.value);
    if (!root) return;
    const levels = rule.levels.map((level) =>
      level.kind === LIT ? level.text : level.kind === PLUS ? "+" : level.kind === HASH ? "#" : ""
    );
    collectContaining(root, rule.levels.map((level) => level.kind), levels, 0, out);
  }
}

/** Like `collect`, for a rule topic whose template levels may sit under `+` or templates. */
function collectContaining(
  node: TrieNode,
  kinds: number[],
  levels: string[],
  i: number,
  out: number[],
): void {
  if (node.hash) { for (const id of node.hash) out.push(id); }
  if (i === levels.length) {
    if (node.end) { for (const id of node.end) out.push(id); }
    return;
  }
  const kind = kinds[i];
  if (kind === HASH) {
    if (i === 0 && node.plus?.hash) { for (const id of node.plus.hash) out.push(id); }
    return;
  }
  if (node.plus) collectContaining(node.plus, kinds, levels, i + 1, out);
  if (kind === PLUS) return;
  if (node.template) collectContaining(node.template, kinds, levels, i + 1, out);
  if (kind === LIT) {
    const next = node.literal?.get(levels[i]);
    if (next) collectContaining(next, kinds, levels, i + 1, out);
  }
}

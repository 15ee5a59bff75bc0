/**
 * The rule index: by action, then by user selector (exact map, prefix map, everyone), then a
 * trie over topic levels. A lookup returns the rules whose topic matches as far as literal,
 * `+` and `#` levels decide it, so its cost follows the request's depth, not the policy size.
 *
 * The trie is built from objects, then frozen into one `Int32Array` laid out depth first,
 * with literal level texts in one string: a request's walk stays within a few adjacent
 * pages, which keeps decisions fast when a policy is far larger than the CPU caches.
 */

import type { CompiledRule } from "./compile.ts";
import { PUB, SUB } from "./action_bits.ts";
import { HASH, type Level, LIT, PLUS } from "./template.ts";
import { ANY, EXACT } from "./selector.ts";
import { levelHash, levelKey, type TopicView } from "./topic_view.ts";
import { FLAG_BITS, ruleFlags } from "./rule_flags.ts";

/** A trie node while the index is built. */
class BuildNode {
  /** The only literal child, until there are two (most nodes have at most one). */
  onlyText: string | null = null;
  onlyChild: BuildNode | null = null;
  /** All literal children, once there are two or more. */
  literal: Map<string, BuildNode> | null = null;
  plus: BuildNode | null = null;
  template: BuildNode | null = null;
  /** Rules whose next (last) level is `#`. */
  hash: number[] | null = null;
  /** Rules whose topic ends here. */
  end: number[] | null = null;
  /** Offset of this node's record in the frozen trie. */
  offset = -1;
}

function insert(root: BuildNode, rule: CompiledRule): void {
  let node = root;
  for (const level of rule.levels) {
    if (level.kind === HASH) {
      (node.hash ??= []).push(rule.id);
      return;
    }
    if (level.kind === LIT) node = literalChildOf(node, level.text);
    else if (level.kind === PLUS) node = node.plus ??= new BuildNode();
    else node = node.template ??= new BuildNode();
  }
  (node.end ??= []).push(rule.id);
}

/** The literal child of `node` for `text`, created when missing. */
function literalChildOf(node: BuildNode, text: string): BuildNode {
  if (node.literal) {
    let next = node.literal.get(text);
    if (!next) node.literal.set(text, next = new BuildNode());
    return next;
  }
  if (node.onlyText === null) {
    node.onlyText = text;
    return node.onlyChild = new BuildNode();
  }
  if (node.onlyText === text) return node.onlyChild!;
  const next = new BuildNode();
  node.literal = new Map([[node.onlyText, node.onlyChild!], [text, next]]);
  node.onlyText = null;
  node.onlyChild = null;
  return next;
}

function literalCount(node: BuildNode): number {
  return node.literal ? node.literal.size : node.onlyText === null ? 0 : 1;
}

function forEachLiteral(node: BuildNode, visit: (child: BuildNode, text: string) => void) {
  if (node.literal) node.literal.forEach(visit);
  else if (node.onlyText !== null) visit(node.onlyChild!, node.onlyText);
}

// A node's record in `data`, at its offset: a header, then its literal children. Up to
// SCAN_LIMIT children are listed as their `levelKey`s (length and first unit) side by side,
// one cache line to scan, then their slots; more children form an open-addressing table of
// slots by `levelHash`. A slot holds the
// first 8 UTF-16 units of its level's text, packed two per int, so checking a level usually
// reads only the slot's own line; longer texts continue after the slots.
const PLUS_CHILD = 0; // offset of the `+` child, or -1
const TEMPLATE_CHILD = 1; // offset of the template child, or -1
const HASH_LIST = 2; // offset in `lists` of the rules ending in `#` here, or -1
const END_LIST = 3; // offset in `lists` of the rules ending here, or -1
const SLOTS = 4; // n > 0: n slots scanned in order; n < 0: a hash table of -n slots
const HEADER = 5;
const SLOT = 8; // [hash (tables only), child (0: empty), length, 4 ints of text, rest at]
const INLINE_UNITS = 8;

/** Children up to this many are scanned; more go to an open-addressing table. */
const SCAN_LIMIT = 8;

function tableSize(count: number): number {
  let size = 16;
  while (size < count * 2) size *= 2;
  return size;
}

function slotCount(children: number): number {
  return children <= SCAN_LIMIT ? children : tableSize(children);
}

/** Ints before the slots: the side-by-side keys of a scanned node. */
function keyInts(children: number): number {
  return children <= SCAN_LIMIT ? children : 0;
}

function overflowInts(node: BuildNode): number {
  let ints = 0;
  forEachLiteral(node, (_child, text) => {
    if (text.length > INLINE_UNITS) ints += (text.length - INLINE_UNITS + 1) >> 1;
  });
  return ints;
}

/** Packs `text[from, to)` two units per int into `data` at `at`. */
function pack(data: Int32Array, at: number, text: string, from: number, to: number): void {
  for (let c = from; c < to; c += 2) {
    data[at++] = text.charCodeAt(c) | (c + 1 < to ? text.charCodeAt(c + 1) << 16 : 0);
  }
}

/** Tries frozen into one array (the first root is at offset 0 and is nobody's child). */
class FrozenTrie {
  readonly data: Int32Array;
  readonly lists: Int32Array;

  /**
   * Freezes the tries under `roots` into one array, setting each build node's `offset`.
   * Rule lists hold `entry(id)`: the id with the rule's flags.
   */
  constructor(roots: BuildNode[], entry: (id: number) => number) {
    const order: BuildNode[] = [];
    let size = 0;
    let listSize = 0;
    const visit = (node: BuildNode) => {
      node.offset = size;
      order.push(node);
      const children = literalCount(node);
      size += HEADER + keyInts(children) + SLOT * slotCount(children) + overflowInts(node);
      if (node.hash) listSize += node.hash.length + 1;
      if (node.end) listSize += node.end.length + 1;
      if (node.template) visit(node.template);
      if (node.plus) visit(node.plus);
      forEachLiteral(node, visit);
    };
    for (const root of roots) visit(root);
    const data = new Int32Array(size);
    const lists = new Int32Array(listSize);
    let listAt = 0;
    const writeList = (ids: number[] | null) => {
      if (!ids) return -1;
      const at = listAt;
      lists[listAt++] = ids.length;
      for (const id of ids) lists[listAt++] = entry(id);
      return at;
    };
    for (const node of order) {
      const at = node.offset;
      data[at + PLUS_CHILD] = node.plus ? node.plus.offset : -1;
      data[at + TEMPLATE_CHILD] = node.template ? node.template.offset : -1;
      data[at + HASH_LIST] = writeList(node.hash);
      data[at + END_LIST] = writeList(node.end);
      const children = literalCount(node);
      const slots = slotCount(children);
      const hashed = children > SCAN_LIMIT;
      data[at + SLOTS] = hashed ? -slots : slots;
      const base = at + HEADER + keyInts(children);
      let overflowAt = base + SLOT * slots;
      let k = 0;
      forEachLiteral(node, (child, text) => {
        let slot = k;
        if (hashed) {
          const hash = levelHash(text);
          for (slot = hash & (slots - 1); data[base + SLOT * slot + 1] !== 0;) {
            slot = (slot + 1) & (slots - 1);
          }
          data[base + SLOT * slot] = hash;
        } else data[at + HEADER + k] = levelKey(text);
        k++;
        const edge = base + SLOT * slot;
        data[edge + 1] = child.offset;
        data[edge + 2] = text.length;
        pack(data, edge + 3, text, 0, Math.min(text.length, INLINE_UNITS));
        if (text.length > INLINE_UNITS) {
          data[edge + 7] = overflowAt;
          pack(data, overflowAt, text, INLINE_UNITS, text.length);
          overflowAt += (text.length - INLINE_UNITS + 1) >> 1;
        }
      });
    }
    this.data = data;
    this.lists = lists;
  }

  /** Whether the slot at `edge` holds `length` units equal to `topic` from `from`. */
  #sameText(edge: number, length: number, topic: string, from: number): boolean {
    const data = this.data;
    const inline = length < INLINE_UNITS ? length : INLINE_UNITS;
    let k = 0;
    for (; k + 1 < inline; k += 2) {
      const pair = topic.charCodeAt(from + k) | (topic.charCodeAt(from + k + 1) << 16);
      if (data[edge + 3 + (k >> 1)] !== pair) return false;
    }
    if (k < inline && data[edge + 3 + (k >> 1)] !== topic.charCodeAt(from + k)) return false;
    const overflow = data[edge + 7];
    for (let k = INLINE_UNITS; k < length; k += 2) {
      const packed = data[overflow + ((k - INLINE_UNITS) >> 1)];
      if ((packed & 0xffff) !== topic.charCodeAt(from + k)) return false;
      if (k + 1 < length && (packed >>> 16) !== topic.charCodeAt(from + k + 1)) return false;
    }
    return true;
  }

  /**
   * The literal child of `node` whose text is `text[from, from + length)`, or -1. `key` and
   * `hash` give that text's `levelKey` and `levelHash` (the hash only when a table needs it).
   */
  #find(
    node: number,
    key: number,
    hash: () => number,
    text: string,
    from: number,
    length: number,
  ): number {
    const data = this.data;
    const slots = data[node + SLOTS];
    if (slots >= 0) {
      const keys = node + HEADER;
      for (let k = 0; k < slots; k++) {
        if (data[keys + k] !== key) continue;
        const edge = keys + slots + SLOT * k;
        if (data[edge + 2] === length && this.#sameText(edge, length, text, from)) {
          return data[edge + 1];
        }
      }
      return -1;
    }
    const base = node + HEADER;
    const mask = -slots - 1;
    const wanted = hash();
    for (let slot = wanted & mask;; slot = (slot + 1) & mask) {
      const edge = base + SLOT * slot;
      if (data[edge + 1] === 0) return -1;
      if (
        data[edge] === wanted && data[edge + 2] === length &&
        this.#sameText(edge, length, text, from)
      ) {
        return data[edge + 1];
      }
    }
  }

  /** The literal child of `node` whose text is `view` level `i`, or -1. */
  literalChild(node: number, view: TopicView, i: number): number {
    const data = this.data;
    const from = view.start[i];
    const length = view.end[i] - from;
    const slots = data[node + SLOTS];
    if (slots === 0) return -1;
    if (slots > 0) {
      // The common small node, without a closure: scan the keys, then check the text.
      const key = view.keyOf(i);
      const keys = node + HEADER;
      for (let k = 0; k < slots; k++) {
        if (data[keys + k] !== key) continue;
        const edge = keys + slots + SLOT * k;
        if (data[edge + 2] === length && this.#sameText(edge, length, view.text, from)) {
          return data[edge + 1];
        }
      }
      return -1;
    }
    return this.#find(node, 0, () => view.hashOf(i), view.text, from, length);
  }

  /** The literal child of `node` for `text`, or -1. */
  literalChildText(node: number, text: string): number {
    return this.#find(node, levelKey(text), () => levelHash(text), text, 0, text.length);
  }
}

const PLUS_CHAR = 43;
const HASH_CHAR = 35;

/**
 * Adds to `out` the rules under `node` whose topic matches (publish) or contains (subscribe)
 * the request's levels from `i` on, as far as literal, `+` and `#` levels decide it: exact
 * for rules without placeholders (the `$` rule included), a superset for the others, which
 * the matcher checks. A request `#` sits only inside a rule `#` at the same level, or `+/#`.
 */
function collect(trie: FrozenTrie, start: number, view: TopicView, from: number, out: number[]) {
  const data = trie.data;
  const lists = trie.lists;
  const dollar = view.startsWithDollar();
  let node = start;
  for (let i = from;; i++) {
    const hashList = data[node + HASH_LIST];
    if (hashList >= 0 && !(i === 0 && dollar)) {
      for (let k = 1; k <= lists[hashList]; k++) out.push(lists[hashList + k]);
    }
    if (i === view.count) {
      const endList = data[node + END_LIST];
      if (endList >= 0) {
        for (let k = 1; k <= lists[endList]; k++) out.push(lists[endList + k]);
      }
      return;
    }
    const plus = data[node + PLUS_CHILD];
    if (view.isChar(i, HASH_CHAR)) {
      const plusHash = plus >= 0 ? data[plus + HASH_LIST] : -1;
      if (i === 0 && plusHash >= 0) {
        for (let k = 1; k <= lists[plusHash]; k++) out.push(lists[plusHash + k]);
      }
      return;
    }
    // Walk the literal branch in this loop and recurse into the others.
    if (plus >= 0 && !(i === 0 && dollar)) collect(trie, plus, view, i + 1, out);
    if (view.isChar(i, PLUS_CHAR)) return;
    const template = data[node + TEMPLATE_CHILD];
    if (template >= 0) collect(trie, template, view, i + 1, out);
    node = trie.literalChild(node, view, i);
    if (node < 0) return;
  }
}

/** Like `collect`, for a rule topic whose template levels may sit under `+` or templates. */
function collectContaining(
  trie: FrozenTrie,
  rules: CompiledRule[],
  node: number,
  levels: Level[],
  i: number,
  out: CompiledRule[],
): void {
  const { data, lists } = trie;
  const push = (list: number) => {
    if (list >= 0) {
      for (let k = 1; k <= lists[list]; k++) out.push(rules[lists[list + k] >> FLAG_BITS]);
    }
  };
  push(data[node + HASH_LIST]);
  if (i === levels.length) {
    push(data[node + END_LIST]);
    return;
  }
  const kind = levels[i].kind;
  const plus = data[node + PLUS_CHILD];
  if (kind === HASH) {
    if (i === 0 && plus >= 0) push(data[plus + HASH_LIST]);
    return;
  }
  if (plus >= 0) collectContaining(trie, rules, plus, levels, i + 1, out);
  if (kind === PLUS) return;
  const template = data[node + TEMPLATE_CHILD];
  if (template >= 0) collectContaining(trie, rules, template, levels, i + 1, out);
  if (kind === LIT) {
    const next = trie.literalChildText(node, levels[i].text);
    if (next >= 0) collectContaining(trie, rules, next, levels, i + 1, out);
  }
}

/** Usernames whose selector tries are remembered per action index. */
const ROOTS_CACHE_LIMIT = 65_536;

/** The tries for one action, grouped by selector. */
class ActionIndex {
  /** While building: each selector's trie. Dropped by `freeze`. */
  #building: {
    exact: Map<string, BuildNode>;
    prefix: Map<string, BuildNode>;
    any: BuildNode | null;
  } | null = {
    exact: new Map(),
    prefix: new Map(),
    any: null,
  };
  /** Once frozen: the trie, and each selector's root offset in it. */
  #trie: FrozenTrie | null = null;
  readonly #exact = new Map<string, number>();
  readonly #prefix = new Map<string, number>();
  #any = -1;
  /** Distinct prefix lengths, ascending. */
  readonly #prefixLengths: number[] = [];
  /**
   * Where the roots whose selectors select a username start in `#rootLists` (a count, then
   * the offsets); a broker sees the same usernames again and again.
   */
  readonly #rootsByUsername = new Map<string, number>();
  #rootLists = new Int32Array(1024);
  #rootListsUsed = 0;

  add(rule: CompiledRule): void {
    const building = this.#building!;
    const { kind, value } = rule.selector;
    let root: BuildNode | undefined;
    if (kind === ANY) root = building.any ??= new BuildNode();
    else {
      const map = kind === EXACT ? building.exact : building.prefix;
      root = map.get(value);
      if (!root) {
        map.set(value, root = new BuildNode());
        if (kind !== EXACT && !this.#prefixLengths.includes(value.length)) {
          this.#prefixLengths.push(value.length);
          this.#prefixLengths.sort((a, b) => a - b);
        }
      }
    }
    insert(root, rule);
  }

  /** Freezes every selector's trie into one flat array and drops the build objects. */
  freeze(entry: (id: number) => number): void {
    const building = this.#building!;
    this.#building = null;
    const roots: BuildNode[] = [];
    if (building.any) roots.push(building.any);
    for (const root of building.exact.values()) roots.push(root);
    for (const root of building.prefix.values()) roots.push(root);
    this.#trie = new FrozenTrie(roots, entry);
    if (building.any) this.#any = building.any.offset;
    for (const [name, root] of building.exact) this.#exact.set(name, root.offset);
    for (const [name, root] of building.prefix) this.#prefix.set(name, root.offset);
  }

  #rootsAt(username: string): number {
    const cached = this.#rootsByUsername.get(username);
    if (cached !== undefined) return cached;
    const roots: number[] = [];
    if (this.#any >= 0) roots.push(this.#any);
    const exact = this.#exact.get(username);
    if (exact !== undefined) roots.push(exact);
    for (const length of this.#prefixLengths) {
      if (length > username.length) break;
      const prefix = this.#prefix.get(username.slice(0, length));
      if (prefix !== undefined) roots.push(prefix);
    }
    if (this.#rootsByUsername.size >= ROOTS_CACHE_LIMIT) {
      this.#rootsByUsername.clear();
      this.#rootListsUsed = 0;
    }
    if (this.#rootListsUsed + roots.length + 1 > this.#rootLists.length) {
      const grown = new Int32Array(this.#rootLists.length * 2 + roots.length + 1);
      grown.set(this.#rootLists);
      this.#rootLists = grown;
    }
    const at = this.#rootListsUsed;
    this.#rootLists[at] = roots.length;
    this.#rootLists.set(roots, at + 1);
    this.#rootListsUsed += roots.length + 1;
    this.#rootsByUsername.set(username, at);
    return at;
  }

  candidates(username: string, view: TopicView, out: number[]) {
    if (!this.#trie) return;
    const at = this.#rootsAt(username);
    const lists = this.#rootLists;
    for (let k = 1; k <= lists[at]; k++) collect(this.#trie, lists[at + k], view, 0, out);
  }

  containing(rules: CompiledRule[], rule: CompiledRule, out: CompiledRule[]): void {
    const { kind, value } = rule.selector;
    const root = kind === ANY
      ? this.#any
      : (kind === EXACT ? this.#exact : this.#prefix).get(value);
    if (root === undefined || root < 0 || !this.#trie) return;
    collectContaining(this.#trie, rules, root, rule.levels, 0, out);
  }
}

/** Finds the rules that may apply to a request without looking at the others. */
export class RuleIndex {
  readonly #pub = new ActionIndex();
  readonly #sub = new ActionIndex();

  /** Indexes `rules` (ids are their positions in the array). */
  constructor(private readonly rules: CompiledRule[]) {
    for (const rule of rules) {
      if (rule.actions & PUB) this.#pub.add(rule);
      if (rule.actions & SUB) this.#sub.add(rule);
    }
    const entry = (id: number) => (id << FLAG_BITS) | ruleFlags(rules[id]);
    this.#pub.freeze(entry);
    this.#sub.freeze(entry);
  }

  /**
   * Appends to `out` the rules covering `action` whose selector selects `username` and whose
   * topic matches the topic (or contains the filter) in `view`, each as `id << FLAG_BITS |
   * flags`: exactly, for rules without placeholders; for rules with placeholders, as far as
   * their other levels decide (the matcher checks their placeholder levels).
   */
  candidates(action: number, username: string, view: TopicView, out: number[]): void {
    (action === PUB ? this.#pub : this.#sub).candidates(username, view, out);
  }

  /**
   * Appends to `out` the rules with the same selector as `rule`, covering `action`, whose
   * topic may contain `rule`'s topic (template levels count as any literal level).
   */
  containing(rule: CompiledRule, action: number, out: CompiledRule[]): void {
    (action === PUB ? this.#pub : this.#sub).containing(this.rules, rule, out);
  }
}

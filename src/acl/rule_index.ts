/**
 * The rule index: by action, then by user selector (exact map, prefix map, everyone), then a
 * trie over topic levels. A lookup returns the rules whose topic matches as far as literal,
 * `+` and `#` levels decide it, so its cost follows the request's depth, not the policy size.
 *
 * The trie is built from objects, then frozen into one `Int32Array` laid out depth first,
 * level texts and rule lists included: a request's walk stays within a few adjacent cache
 * lines, which keeps decisions fast when a policy is far larger than the CPU caches.
 */

import type { CompiledRule } from "./compile.ts";
import { PUB, SUB } from "./action_bits.ts";
import { HASH, type Level, LIT, PLUS } from "./template.ts";
import { ANY, EXACT } from "./selector.ts";
import { levelHash, levelKey, type TopicView } from "./topic_view.ts";
import { FLAG_BITS } from "./rule_flags.ts";

/** Writes the records the index keeps in its rule lists. */
export interface RuleRecords {
  /** Ints per record; the first is the rule id shifted left by FLAG_BITS, then its flags. */
  readonly ints: number;
  /** Writes rule `id`'s record into `data` at `at`. */
  write(id: number, data: Int32Array, at: number): void;
}

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

function forEachLiteral(node: BuildNode, visit: (child: BuildNode, text: string) => void) {
  if (node.literal) node.literal.forEach(visit);
  else if (node.onlyText !== null) visit(node.onlyChild!, node.onlyText);
}

// A node's record in `data`, at its offset: a descriptor, the fields it says are present,
// its literal children, then its rule lists. The descriptor holds one bit per field below,
// then the children's layout: n > 0, n children scanned in order; n < 0, a hash table of -n
// pairs. Scanned children are listed as their `levelKey`s (length and first unit) side by
// side, one cache line to scan, then their offsets; a table holds (`levelHash`, offset)
// pairs. A literal child's level text (its label) sits just before the child's own offset,
// two UTF-16 units per int, then its length: checking a level reads the line the walk reads
// next anyway. A node on a plain path (one child, no rules) takes 3 ints plus its child's
// label, so a user's chain of levels spans two or three cache lines.
const HAS_PLUS = 1; // the offset of the `+` child
const HAS_TEMPLATE = 2; // the offset of the template child
const HAS_HASH = 4; // the offset of the list of rules ending in `#` here
const HAS_END = 8; // the offset of the list of rules ending here
const FIELD_BITS = 4;
/** Where a field sits, by the bits of the fields before it: 1 + their count. */
const FIELD_AT = [1, 2, 2, 3, 2, 3, 3, 4, 2, 3, 3, 4, 3, 4, 4, 5];

/** Field `bit` of the node at `node`, or -1 when the node has none. */
function field(data: Int32Array, node: number, bit: number): number {
  const descriptor = data[node];
  return descriptor & bit ? data[node + FIELD_AT[descriptor & (bit - 1)]] : -1;
}

/** Children up to this many are scanned; more go to an open-addressing table. */
const SCAN_LIMIT = 8;

function tableSize(count: number): number {
  let size = 16;
  while (size < count * 2) size *= 2;
  return size;
}

/** The descriptor bits of the fields `node` has. */
function fieldBits(node: BuildNode): number {
  return (node.plus ? HAS_PLUS : 0) | (node.template ? HAS_TEMPLATE : 0) |
    (node.hash ? HAS_HASH : 0) | (node.end ? HAS_END : 0);
}

/** Ints after the fields for `children` literal children. */
function childInts(children: number): number {
  return children <= SCAN_LIMIT ? 2 * children : 2 * tableSize(children);
}

/** Ints of a label: its packed text, its number of levels, then its length. */
function labelInts(text: string): number {
  return ((text.length + 1) >> 1) + 2;
}

/**
 * A literal child as frozen: a chain of nodes that each hold one literal child and nothing
 * else is folded into one edge whose label spans several levels (`a/b/c`).
 */
interface Edge {
  /** The levels' texts joined by `/`. */
  label: string;
  /** The first level's text, which the parent's key or hash is computed from. */
  first: string;
  levels: number;
  child: BuildNode;
}

function edgesOf(node: BuildNode): Edge[] {
  const edges: Edge[] = [];
  forEachLiteral(node, (child, first) => {
    let label = first;
    let levels = 1;
    while (fieldBits(child) === 0 && child.onlyChild !== null) {
      label += "/" + child.onlyText;
      child = child.onlyChild;
      levels++;
    }
    edges.push({ label, first, levels, child });
  });
  return edges;
}

/** Tries frozen into one array (a root has no label; a literal child's offset is never 0). */
class FrozenTrie {
  readonly data: Int32Array;
  /** Ints per rule record in the lists. */
  readonly recordInts: number;

  /**
   * Freezes the tries under `roots` into one array, setting each build node's `offset`. A
   * node's rule lists follow its children (a count, then each rule's record), so a node and
   * its rules usually share a cache line.
   */
  constructor(roots: BuildNode[], records: RuleRecords) {
    const ints = this.recordInts = records.ints;
    const order: BuildNode[] = [];
    const labels: (Edge | null)[] = [];
    const edges: Edge[][] = [];
    let size = 0;
    const visit = (node: BuildNode, label: Edge | null) => {
      if (label !== null) size += labelInts(label.label);
      node.offset = size;
      order.push(node);
      labels.push(label);
      const children = edgesOf(node);
      edges.push(children);
      size += FIELD_AT[fieldBits(node)] + childInts(children.length);
      if (node.hash) size += node.hash.length * ints + 1;
      if (node.end) size += node.end.length * ints + 1;
      if (node.template) visit(node.template, null);
      if (node.plus) visit(node.plus, null);
      for (const edge of children) visit(edge.child, edge);
    };
    for (const root of roots) visit(root, null);
    const data = new Int32Array(size);
    order.forEach((node, n) => {
      const at = node.offset;
      const label = labels[n];
      if (label !== null) {
        const text = label.label;
        const start = at - labelInts(text);
        for (let c = 0; c < text.length; c += 2) {
          data[start + (c >> 1)] = text.charCodeAt(c) |
            (c + 1 < text.length ? text.charCodeAt(c + 1) << 16 : 0);
        }
        data[at - 2] = label.levels;
        data[at - 1] = text.length;
      }
      const children = edges[n];
      const hashed = children.length > SCAN_LIMIT;
      const bits = fieldBits(node);
      const base = at + FIELD_AT[bits];
      let listAt = base + childInts(children.length);
      const writeList = (ids: number[]) => {
        const start = listAt;
        data[listAt++] = ids.length;
        for (const id of ids) {
          records.write(id, data, listAt);
          listAt += ints;
        }
        return start;
      };
      const slots = hashed ? -tableSize(children.length) : children.length;
      data[at] = bits | (slots << FIELD_BITS);
      let fieldAt = at + 1;
      if (node.plus) data[fieldAt++] = node.plus.offset;
      if (node.template) data[fieldAt++] = node.template.offset;
      if (node.hash) data[fieldAt++] = writeList(node.hash);
      if (node.end) data[fieldAt++] = writeList(node.end);
      if (!hashed) {
        children.forEach((edge, k) => {
          data[base + k] = levelKey(edge.first);
          data[base + children.length + k] = edge.child.offset;
        });
        return;
      }
      const mask = -slots - 1;
      for (const edge of children) {
        const hash = levelHash(edge.first);
        let slot = hash & mask;
        while (data[base + 2 * slot + 1] !== 0) slot = (slot + 1) & mask;
        data[base + 2 * slot] = hash;
        data[base + 2 * slot + 1] = edge.child.offset;
      }
    });
    this.data = data;
  }

  /** How many levels the label of the literal child at `child` spans. */
  levelsOf(child: number): number {
    return this.data[child - 2];
  }

  /** Whether the label of the literal child at `child` is `topic[from, from + length)`. */
  #labelIs(child: number, topic: string, from: number, length: number): boolean {
    const data = this.data;
    if (data[child - 1] !== length) return false;
    const start = child - 2 - ((length + 1) >> 1);
    let k = 0;
    for (; k + 1 < length; k += 2) {
      const pair = topic.charCodeAt(from + k) | (topic.charCodeAt(from + k + 1) << 16);
      if (data[start + (k >> 1)] !== pair) return false;
    }
    return k === length || data[start + (k >> 1)] === topic.charCodeAt(from + k);
  }

  /** Whether the label of `child` is the request's levels from `i` on, as many as it spans. */
  #labelIsView(child: number, view: TopicView, i: number): boolean {
    const last = i + this.data[child - 2] - 1;
    if (last >= view.count) return false;
    const from = view.start[i];
    return this.#labelIs(child, view.text, from, view.end[last] - from);
  }

  /** Whether the label of `child` is rule `levels` from `i` on, all of them literal. */
  #labelIsLevels(child: number, levels: Level[], i: number): boolean {
    const end = i + this.data[child - 2];
    if (end > levels.length) return false;
    let text = "";
    for (let k = i; k < end; k++) {
      if (levels[k].kind !== LIT) return false;
      text += k > i ? `/${levels[k].text}` : levels[k].text;
    }
    return this.#labelIs(child, text, 0, text.length);
  }

  /**
   * The literal child of `node` whose first level has `levelKey` `key` and `levelHash`
   * `hash()` (computed only when a table needs it) and whose label `matches`, or -1.
   */
  #find(node: number, key: number, hash: () => number, matches: (child: number) => boolean) {
    const data = this.data;
    const descriptor = data[node];
    const slots = descriptor >> FIELD_BITS;
    const base = node + FIELD_AT[descriptor & 15];
    if (slots >= 0) {
      for (let k = 0; k < slots; k++) {
        if (data[base + k] === key && matches(data[base + slots + k])) {
          return data[base + slots + k];
        }
      }
      return -1;
    }
    const mask = -slots - 1;
    const wanted = hash();
    for (let slot = wanted & mask;; slot = (slot + 1) & mask) {
      const child = data[base + 2 * slot + 1];
      if (child === 0) return -1;
      if (data[base + 2 * slot] === wanted && matches(child)) return child;
    }
  }

  /**
   * The literal child of `node` whose label is the request's levels from `i` on, or -1; the
   * walk goes on `levelsOf(child)` levels further.
   */
  literalChild(node: number, view: TopicView, i: number): number {
    const data = this.data;
    const descriptor = data[node];
    const slots = descriptor >> FIELD_BITS;
    if (slots === 0) return -1;
    if (slots > 0) {
      // The common small node, without a closure: scan the keys, then check the label.
      const key = view.keyOf(i);
      const base = node + FIELD_AT[descriptor & 15];
      for (let k = 0; k < slots; k++) {
        if (data[base + k] !== key) continue;
        const child = data[base + slots + k];
        if (this.#labelIsView(child, view, i)) return child;
      }
      return -1;
    }
    return this.#find(node, 0, () => view.hashOf(i), (child) => this.#labelIsView(child, view, i));
  }

  /** The literal child of `node` whose label is rule `levels` from `i` on, or -1. */
  literalChildOfLevels(node: number, levels: Level[], i: number): number {
    const first = levels[i].text;
    return this.#find(
      node,
      levelKey(first),
      () => levelHash(first),
      (child) => this.#labelIsLevels(child, levels, i),
    );
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
  const ints = trie.recordInts;
  const dollar = view.startsWithDollar();
  let node = start;
  for (let i = from;; i++) {
    const hashList = field(data, node, HAS_HASH);
    if (hashList >= 0 && !(i === 0 && dollar)) {
      for (let k = 0; k < data[hashList]; k++) out.push(hashList + 1 + k * ints);
    }
    if (i === view.count) {
      const endList = field(data, node, HAS_END);
      if (endList >= 0) {
        for (let k = 0; k < data[endList]; k++) out.push(endList + 1 + k * ints);
      }
      return;
    }
    const plus = field(data, node, HAS_PLUS);
    if (view.isChar(i, HASH_CHAR)) {
      const plusHash = plus >= 0 ? field(data, plus, HAS_HASH) : -1;
      if (i === 0 && plusHash >= 0) {
        for (let k = 0; k < data[plusHash]; k++) out.push(plusHash + 1 + k * ints);
      }
      return;
    }
    // Walk the literal branch in this loop and recurse into the others.
    if (plus >= 0 && !(i === 0 && dollar)) collect(trie, plus, view, i + 1, out);
    if (view.isChar(i, PLUS_CHAR)) return;
    const template = field(data, node, HAS_TEMPLATE);
    if (template >= 0) collect(trie, template, view, i + 1, out);
    node = trie.literalChild(node, view, i);
    if (node < 0) return;
    i += trie.levelsOf(node) - 1;
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
  const { data } = trie;
  const push = (list: number) => {
    if (list >= 0) {
      for (let k = 0; k < data[list]; k++) {
        out.push(rules[data[list + 1 + k * trie.recordInts] >> FLAG_BITS]);
      }
    }
  };
  push(field(data, node, HAS_HASH));
  if (i === levels.length) {
    push(field(data, node, HAS_END));
    return;
  }
  const kind = levels[i].kind;
  const plus = field(data, node, HAS_PLUS);
  if (kind === HASH) {
    if (i === 0 && plus >= 0) push(field(data, plus, HAS_HASH));
    return;
  }
  if (plus >= 0) collectContaining(trie, rules, plus, levels, i + 1, out);
  if (kind === PLUS) return;
  const template = field(data, node, HAS_TEMPLATE);
  if (template >= 0) collectContaining(trie, rules, template, levels, i + 1, out);
  if (kind === LIT) {
    const next = trie.literalChildOfLevels(node, levels, i);
    if (next >= 0) collectContaining(trie, rules, next, levels, i + trie.levelsOf(next), out);
  }
}

const EMPTY = new Int32Array(0);

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
  freeze(records: RuleRecords): void {
    const building = this.#building!;
    this.#building = null;
    const roots: BuildNode[] = [];
    if (building.any) roots.push(building.any);
    for (const root of building.exact.values()) roots.push(root);
    for (const root of building.prefix.values()) roots.push(root);
    this.#trie = new FrozenTrie(roots, records);
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

  /** The trie's array, whose rule lists hold the records `candidates` points at. */
  get records(): Int32Array {
    return this.#trie?.data ?? EMPTY;
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

  /**
   * Indexes `rules` (ids are their positions in the array), keeping each rule's record, as
   * `records` writes it, in the rule lists.
   */
  constructor(private readonly rules: CompiledRule[], records: RuleRecords) {
    for (const rule of rules) {
      if (rule.actions & PUB) this.#pub.add(rule);
      if (rule.actions & SUB) this.#sub.add(rule);
    }
    this.#pub.freeze(records);
    this.#sub.freeze(records);
  }

  /** The array holding the records of `action`'s candidates. */
  records(action: number): Int32Array {
    return (action === PUB ? this.#pub : this.#sub).records;
  }

  /**
   * Appends to `out` the rules covering `action` whose selector selects `username` and whose
   * topic matches the topic (or contains the filter) in `view`, each as the offset of its
   * record in `records(action)`: exactly, for rules without placeholders; for rules with
   * placeholders, as far as their other levels decide (the matcher checks their placeholder
   * levels).
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

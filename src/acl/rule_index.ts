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
import { levelHash, type TopicView } from "./topic_view.ts";

/** A trie node while the index is built. */
class BuildNode {
  literal: Map<string, BuildNode> | null = null;
  plus: BuildNode | null = null;
  template: BuildNode | null = null;
  /** Rules whose next (last) level is `#`. */
  hash: number[] | null = null;
  /** Rules whose topic ends here. */
  end: number[] | null = null;
  /** Literal children with their hashes, set when the trie is frozen. */
  edges: Edge[] | null = null;
  /** Offset of this node's record in the frozen trie. */
  offset = -1;
}

/** A literal child with its level hash. */
interface Edge {
  hash: number;
  text: string;
  node: BuildNode;
}

function insert(root: BuildNode, rule: CompiledRule): void {
  let node = root;
  for (const level of rule.levels) {
    if (level.kind === HASH) {
      (node.hash ??= []).push(rule.id);
      return;
    }
    if (level.kind === LIT) {
      node.literal ??= new Map();
      let next = node.literal.get(level.text);
      if (!next) node.literal.set(level.text, next = new BuildNode());
      node = next;
    } else if (level.kind === PLUS) node = node.plus ??= new BuildNode();
    else node = node.template ??= new BuildNode();
  }
  (node.end ??= []).push(rule.id);
}

const NO_EDGES: Edge[] = [];

function literalEdges(node: BuildNode): Edge[] {
  if (node.edges) return node.edges;
  if (!node.literal) return node.edges = NO_EDGES;
  const edges: Edge[] = [];
  node.literal.forEach((child, text) => edges.push({ hash: levelHash(text), text, node: child }));
  return node.edges = edges;
}

// A node's record in `data`, at its offset: a header, then its literal children's slots.
// A slot holds the first 8 UTF-16 units of its level's text, packed two per int, so checking
// a level usually reads only the slot's own cache line; longer texts continue after the
// slots.
const PLUS_CHILD = 0; // offset of the `+` child, or -1
const TEMPLATE_CHILD = 1; // offset of the template child, or -1
const HASH_LIST = 2; // offset in `lists` of the rules ending in `#` here, or -1
const END_LIST = 3; // offset in `lists` of the rules ending here, or -1
const SLOTS = 4; // n > 0: n slots scanned in order; n < 0: a hash table of -n slots
const HEADER = 5;
const SLOT = 8; // [hash, child offset (0: empty slot), length, 4 ints of text, rest at]
const INLINE_UNITS = 8;

/** Children up to this many are scanned; more go to an open-addressing table. */
const SCAN_LIMIT = 8;

function tableSize(count: number): number {
  let size = 16;
  while (size < count * 2) size *= 2;
  return size;
}

function slotCount(edges: Edge[]): number {
  return edges.length <= SCAN_LIMIT ? edges.length : tableSize(edges.length);
}

function overflowInts(edges: Edge[]): number {
  let ints = 0;
  for (const edge of edges) {
    if (edge.text.length > INLINE_UNITS) ints += (edge.text.length - INLINE_UNITS + 1) >> 1;
  }
  return ints;
}

/** Packs `text[from, to)` two units per int into `data` at `at`. */
function pack(data: Int32Array, at: number, text: string, from: number, to: number): void {
  for (let c = from; c < to; c += 2) {
    data[at++] = text.charCodeAt(c) | (c + 1 < to ? text.charCodeAt(c + 1) << 16 : 0);
  }
}

/** A trie frozen into one array (the synthetic top node is at offset 0). */
class FrozenTrie {
  readonly data: Int32Array;
  readonly lists: Int32Array;

  /** Freezes the trie under `root`, setting each build node's `offset`. */
  constructor(root: BuildNode) {
    const order: BuildNode[] = [];
    let size = 0;
    let listSize = 0;
    const visit = (node: BuildNode) => {
      node.offset = size;
      order.push(node);
      const edges = literalEdges(node);
      size += HEADER + SLOT * slotCount(edges) + overflowInts(edges);
      if (node.hash) listSize += node.hash.length + 1;
      if (node.end) listSize += node.end.length + 1;
      if (node.template) visit(node.template);
      if (node.plus) visit(node.plus);
      for (const edge of edges) visit(edge.node);
    };
    visit(root);
    const data = new Int32Array(size);
    const lists = new Int32Array(listSize);
    let listAt = 0;
    const writeList = (ids: number[] | null) => {
      if (!ids) return -1;
      const at = listAt;
      lists[listAt++] = ids.length;
      for (const id of ids) lists[listAt++] = id;
      return at;
    };
    for (const node of order) {
      const at = node.offset;
      data[at + PLUS_CHILD] = node.plus ? node.plus.offset : -1;
      data[at + TEMPLATE_CHILD] = node.template ? node.template.offset : -1;
      data[at + HASH_LIST] = writeList(node.hash);
      data[at + END_LIST] = writeList(node.end);
      const edges = node.edges!;
      const slots = slotCount(edges);
      const hashed = edges.length > SCAN_LIMIT;
      data[at + SLOTS] = hashed ? -slots : slots;
      let overflowAt = at + HEADER + SLOT * slots;
      for (let k = 0; k < edges.length; k++) {
        const { hash, text, node: child } = edges[k];
        let slot = hashed ? hash & (slots - 1) : k;
        while (hashed && data[at + HEADER + SLOT * slot + 1] !== 0) slot = (slot + 1) & (slots - 1);
        const edge = at + HEADER + SLOT * slot;
        data[edge] = hash;
        data[edge + 1] = child.offset;
        data[edge + 2] = text.length;
        pack(data, edge + 3, text, 0, Math.min(text.length, INLINE_UNITS));
        if (text.length > INLINE_UNITS) {
          data[edge + 7] = overflowAt;
          pack(data, overflowAt, text, INLINE_UNITS, text.length);
          overflowAt += (text.length - INLINE_UNITS + 1) >> 1;
        }
      }
    }
    this.data = data;
    this.lists = lists;
  }

  /** Whether the slot at `edge` holds `length` units equal to `topic` from `from`. */
  #sameText(edge: number, length: number, topic: string, from: number): boolean {
    const data = this.data;
    const inline = length < INLINE_UNITS ? length : INLINE_UNITS;
    for (let k = 0; k < inline; k += 2) {
      const packed = data[edge + 3 + (k >> 1)];
      if ((packed & 0xffff) !== topic.charCodeAt(from + k)) return false;
      if (k + 1 < inline && (packed >>> 16) !== topic.charCodeAt(from + k + 1)) return false;
    }
    const overflow = data[edge + 7];
    for (let k = INLINE_UNITS; k < length; k += 2) {
      const packed = data[overflow + ((k - INLINE_UNITS) >> 1)];
      if ((packed & 0xffff) !== topic.charCodeAt(from + k)) return false;
      if (k + 1 < length && (packed >>> 16) !== topic.charCodeAt(from + k + 1)) return false;
    }
    return true;
  }

  /** The literal child of `node` whose text is `text[from, from + length)`, or -1. */
  #find(node: number, hash: number, text: string, from: number, length: number): number {
    const data = this.data;
    const slots = data[node + SLOTS];
    const base = node + HEADER;
    if (slots >= 0) {
      for (let k = 0; k < slots; k++) {
        const edge = base + SLOT * k;
        if (
          data[edge] === hash && data[edge + 2] === length &&
          this.#sameText(edge, length, text, from)
        ) {
          return data[edge + 1];
        }
      }
      return -1;
    }
    const mask = -slots - 1;
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const edge = base + SLOT * slot;
      if (data[edge + 1] === 0) return -1;
      if (
        data[edge] === hash && data[edge + 2] === length && this.#sameText(edge, length, text, from)
      ) {
        return data[edge + 1];
      }
    }
  }

  /** The literal child of `node` whose text is `view` level `i`, or -1. */
  literalChild(node: number, view: TopicView, i: number): number {
    const from = view.start[i];
    return this.#find(node, view.hash[i], view.text, from, view.end[i] - from);
  }

  /** The literal child of `node` for `text`, or -1. */
  literalChildText(node: number, text: string): number {
    return this.#find(node, levelHash(text), text, 0, text.length);
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
    if (list >= 0) { for (let k = 1; k <= lists[list]; k++) out.push(rules[lists[list + k]]); }
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
  /** The roots whose selector selects a username; a broker sees the same names again. */
  readonly #rootsByUsername = new Map<string, number[]>();

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
  freeze(): void {
    const building = this.#building!;
    this.#building = null;
    const top = new BuildNode();
    const selectors: [Map<string, number> | null, string, BuildNode][] = [];
    if (building.any) selectors.push([null, "", building.any]);
    for (const [name, root] of building.exact) selectors.push([this.#exact, name, root]);
    for (const [name, root] of building.prefix) selectors.push([this.#prefix, name, root]);
    // Each selector's root hangs off a synthetic top under a key no topic level can hold.
    top.literal = new Map(selectors.map(([, , root], k) => [`\u0000${k}`, root]));
    this.#trie = new FrozenTrie(top);
    for (const [map, name, root] of selectors) {
      if (map) map.set(name, root.offset);
      else this.#any = root.offset;
    }
  }

  #roots(username: string): number[] {
    const cached = this.#rootsByUsername.get(username);
    if (cached) return cached;
    const roots: number[] = [];
    if (this.#any >= 0) roots.push(this.#any);
    const exact = this.#exact.get(username);
    if (exact !== undefined) roots.push(exact);
    for (const length of this.#prefixLengths) {
      if (length > username.length) break;
      const prefix = this.#prefix.get(username.slice(0, length));
      if (prefix !== undefined) roots.push(prefix);
    }
    if (this.#rootsByUsername.size >= ROOTS_CACHE_LIMIT) this.#rootsByUsername.clear();
    this.#rootsByUsername.set(username, roots);
    return roots;
  }

  candidates(username: string, view: TopicView, out: number[]) {
    if (!this.#trie) return;
    const roots = this.#roots(username);
    for (let k = 0; k < roots.length; k++) collect(this.#trie, roots[k], view, 0, out);
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
    this.#pub.freeze();
    this.#sub.freeze();
  }

  /**
   * Appends to `out` the ids of the rules covering `action` whose selector selects `username`
   * and whose topic matches the topic (or contains the filter) in `view`: exactly, for rules
   * without placeholders; for rules with placeholders, possibly (the matcher decides).
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

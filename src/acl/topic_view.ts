/**
 * A topic seen as levels without splitting it: one pass validates it (MQTT 4.7) and records
 * where each level starts and ends. The evaluator's hot path compares and looks up levels in
 * place, so deciding a request allocates no level strings.
 */

import type { TopicKind } from "./topic.ts";

/** FNV-1a offset basis (32-bit). */
const HASH_SEED = 0x811c9dc5 | 0;
/** FNV-1a prime. */
const HASH_PRIME = 16777619;
/**
 * Level hashes keep 30 bits so that they are V8 small integers: a wider value used as a
 * number would be boxed.
 */
const HASH_MASK = 0x3fffffff;
/** Marks a level whose hash has not been computed yet (no hash has all 31 bits set). */
const NO_HASH = -1;

/** The FNV-1a hash of `text[from, to)`. */
function hashRange(text: string, from: number, to: number): number {
  let hash = HASH_SEED;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ text.charCodeAt(i), HASH_PRIME);
  return hash & HASH_MASK;
}

/** The hash of a whole level, as `TopicView.hashOf` computes it. */
export function levelHash(text: string): number {
  return hashRange(text, 0, text.length);
}

/** A cheap key that tells most levels apart: length and first UTF-16 unit. */
export function levelKey(text: string): number {
  return keyOf(text.length, text.length > 0 ? text.charCodeAt(0) : 0);
}

function keyOf(length: number, first: number): number {
  return (length << 16) | first;
}

/** Levels of one topic; the buffers grow and are reused from one scan to the next. */
export class TopicView {
  text = "";
  count = 0;
  start: Int32Array = new Int32Array(16);
  end: Int32Array = new Int32Array(16);
  #hash: Int32Array = new Int32Array(16);

  /** The `levelHash` of level `i`, computed on first use. */
  hashOf(i: number): number {
    let hash = this.#hash[i];
    if (hash === NO_HASH) hash = this.#hash[i] = hashRange(this.text, this.start[i], this.end[i]);
    return hash;
  }

  /** The `levelKey` of level `i`. */
  keyOf(i: number): number {
    const start = this.start[i];
    const length = this.end[i] - start;
    return keyOf(length, length > 0 ? this.text.charCodeAt(start) : 0);
  }

  /** Whether level `i` equals `literal`. */
  equals(i: number, literal: string): boolean {
    const start = this.start[i];
    return this.end[i] - start === literal.length && this.text.startsWith(literal, start);
  }

  /** Whether level `i` is the single character `code` (`+` is 43, `#` is 35). */
  isChar(i: number, code: number): boolean {
    const start = this.start[i];
    return this.end[i] - start === 1 && this.text.charCodeAt(start) === code;
  }

  /** The text of level `i` (allocates; for slow paths). */
  level(i: number): string {
    return this.text.slice(this.start[i], this.end[i]);
  }

  /** Whether the topic's first character is `$`. */
  startsWithDollar(): boolean {
    return this.text.charCodeAt(0) === 36;
  }

  /** Records level `count` as `[from, to)`, growing the buffers when needed. */
  push(from: number, to: number): void {
    const count = this.count;
    if (count === this.start.length) this.#grow();
    this.start[count] = from;
    this.end[count] = to;
    this.#hash[count] = NO_HASH;
    this.count = count + 1;
  }

  #grow(): void {
    const size = this.start.length * 2;
    const grown = (old: Int32Array) => {
      const next = new Int32Array(size);
      next.set(old);
      return next;
    };
    this.start = grown(this.start);
    this.end = grown(this.end);
    this.#hash = grown(this.#hash);
  }
}

/** The most bytes an MQTT topic may take in UTF-8. */
const MAX_BYTES = 65_535;

/** Anything that needs the careful scan: wildcards, NUL, or a surrogate. */
// deno-lint-ignore no-control-regex -- NUL is one of the characters looked for
const SPECIAL = /[+#\u0000\ud800-\udfff]/;

/**
 * Scans `text` into `view`. Returns true when it is a valid topic name (or filter); when it
 * is not, `topicError` says why. Levels are split on `/`; a leading `/` makes an empty level.
 */
export function scanTopic(view: TopicView, text: string, kind: TopicKind): boolean {
  if (text.length === 0) return false;
  if (isPlainTopic(text)) {
    splitPlainTopic(view, text);
    return true;
  }
  view.text = text;
  view.count = 0;
  return scanCarefully(view, text, kind);
}

/**
 * Whether a non-empty `text` is a valid topic name (and so a valid filter) on a quick look:
 * no wildcard, NUL or surrogate, and too short to exceed 65,535 UTF-8 bytes. A false answer
 * needs `scanTopic`.
 */
function isPlainTopic(text: string): boolean {
  // Only a topic of more than 65,535 / 3 UTF-16 units can exceed 65,535 UTF-8 bytes.
  return text.length <= SHORT_TOPIC && !SPECIAL.test(text);
}

// deno-lint-ignore no-control-regex -- NUL is one of the characters looked for
const SPECIAL_AT = /[+#\u0000\ud800-\udfff]/g;

/**
 * Where the first `+`, `#`, NUL or surrogate of `text` is, or -1 when there is none: a
 * non-empty topic without one, and short enough (`isPlainTopic`), is a valid topic name.
 */
export function specialAt(text: string): number {
  SPECIAL_AT.lastIndex = 0;
  return SPECIAL_AT.test(text) ? SPECIAL_AT.lastIndex - 1 : -1;
}

/**
 * Whether `text`, whose first special unit (`specialAt`) is at `at` and which is short
 * enough, is a valid filter whose special units are all wildcards filling a level, `#` last.
 * False also for some valid filters (with surrogates): those need `scanTopic`.
 */
export function isSimpleFilterFrom(text: string, at: number): boolean {
  const last = text.length - 1;
  for (let i = at; i <= last; i++) {
    const code = text.charCodeAt(i);
    if (code === PLUS_CODE || code === HASH_CODE) {
      if (i > 0 && text.charCodeAt(i - 1) !== SLASH_CODE) return false;
      if (i < last && (code === HASH_CODE || text.charCodeAt(i + 1) !== SLASH_CODE)) return false;
    } else if (code === 0 || (code >= 0xd800 && code <= 0xdfff)) return false;
  }
  return true;
}

/** The longest topic that cannot exceed 65,535 UTF-8 bytes (3 bytes per UTF-16 unit at most). */
export const SHORT_TOPIC = Math.floor(MAX_BYTES / 3);

const PLUS_CODE = 43;
const HASH_CODE = 35;
const SLASH_CODE = 47;

/** Scans into `view` a valid topic without surrogates (`isPlainTopic`, `isSimpleFilterFrom`). */
export function splitPlainTopic(view: TopicView, text: string): void {
  view.text = text;
  view.count = 0;
  let from = 0;
  for (let slash = text.indexOf("/"); slash >= 0; slash = text.indexOf("/", from)) {
    view.push(from, slash);
    from = slash + 1;
  }
  view.push(from, text.length);
}

function scanCarefully(view: TopicView, text: string, kind: TopicKind): boolean {
  const length = text.length;
  let levelStart = 0;
  let bytes = 0;
  let wildcardAt = -1;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 47) {
      if (wildcardAt >= 0) {
        // A wildcard must be the whole level, and `#` the last one.
        if (i - levelStart !== 1 || text.charCodeAt(wildcardAt) === 35) return false;
        wildcardAt = -1;
      }
      view.push(levelStart, i);
      levelStart = i + 1;
      bytes++;
      continue;
    }
    if (code < 0x80) {
      if (code === 43 || code === 35) {
        if (kind === "name" || wildcardAt >= 0) return false;
        wildcardAt = i;
      } else if (code === 0) return false;
      bytes++;
    } else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  if (wildcardAt >= 0 && length - levelStart !== 1) return false;
  if (bytes > MAX_BYTES) return false;
  view.push(levelStart, length);
  return true;
}

/** A view of `text` without validation (for rule-side helpers and tests). */
export function viewOf(text: string): TopicView {
  const view = new TopicView();
  if (!scanTopic(view, text, "filter")) {
    throw new Error(`not a valid topic filter: ${JSON.stringify(text)}`);
  }
  return view;
}

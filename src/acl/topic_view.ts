/**
 * A topic seen as levels without splitting it: one pass validates it (MQTT 4.7) and records
 * where each level starts and ends and a hash of its text. The evaluator's hot path compares
 * and looks up levels in place, so deciding a request allocates no level strings.
 */

import type { TopicKind } from "./topic.ts";

/** FNV-1a offset basis (32-bit). */
export const HASH_SEED = 0x811c9dc5 | 0;
/** FNV-1a prime. */
const HASH_PRIME = 16777619;

/**
 * Level hashes keep 30 bits so that they are V8 small integers: a wider value used as a
 * `Map` key would be boxed on every lookup.
 */
const HASH_MASK = 0x3fffffff;

/** The hash of a whole string, as `scanTopic` computes it for a level. */
export function levelHash(text: string): number {
  let hash = HASH_SEED;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), HASH_PRIME);
  return hash & HASH_MASK;
}

/** Levels of one topic; the buffers grow and are reused from one scan to the next. */
export class TopicView {
  text = "";
  count = 0;
  start: Int32Array = new Int32Array(16);
  end: Int32Array = new Int32Array(16);
  hash: Int32Array = new Int32Array(16);

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

  /** Length of level `i`. */
  length(i: number): number {
    return this.end[i] - this.start[i];
  }

  /** The text of level `i` (allocates; for slow paths). */
  level(i: number): string {
    return this.text.slice(this.start[i], this.end[i]);
  }

  /** Whether the topic's first character is `$`. */
  startsWithDollar(): boolean {
    return this.text.charCodeAt(0) === 36;
  }

  /** All levels as strings (allocates; for explanations). */
  levels(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.level(i));
    return out;
  }

  grow(): void {
    const size = this.start.length * 2;
    const grown = (old: Int32Array) => {
      const next = new Int32Array(size);
      next.set(old);
      return next;
    };
    this.start = grown(this.start);
    this.end = grown(this.end);
    this.hash = grown(this.hash);
  }
}

/** The most bytes an MQTT topic may take in UTF-8. */
const MAX_BYTES = 65_535;

/**
 * Scans `text` into `view`. Returns true when it is a valid topic name (or filter); when it
 * is not, `topicError` says why. Levels are split on `/`; a leading `/` makes an empty level.
 */
export function scanTopic(view: TopicView, text: string, kind: TopicKind): boolean {
  const length = text.length;
  if (length === 0) return false;
  view.text = text;
  let count = 0;
  let levelStart = 0;
  let hash = HASH_SEED;
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
      if (count + 1 >= view.start.length) view.grow();
      view.start[count] = levelStart;
      view.end[count] = i;
      view.hash[count] = hash & HASH_MASK;
      count++;
      levelStart = i + 1;
      hash = HASH_SEED;
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
      hash = Math.imul(Math.imul(hash ^ code, HASH_PRIME) ^ next, HASH_PRIME);
      bytes += 4;
      i++;
      continue;
    } else bytes += 3;
    hash = Math.imul(hash ^ code, HASH_PRIME);
  }
  if (wildcardAt >= 0 && length - levelStart !== 1) return false;
  if (bytes > MAX_BYTES) return false;
  if (count + 1 >= view.start.length) view.grow();
  view.start[count] = levelStart;
  view.end[count] = length;
  view.hash[count] = hash & HASH_MASK;
  view.count = count + 1;
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

/**
 * The level matcher: does a rule topic (with placeholders resolved for one client) match a
 * topic name, or contain a subscription filter? One implementation serves the fast path,
 * the trace and the plain `filterMatchesTopic` / `filterContains` helpers.
 */

import type { ClientIdentity } from "./types.ts";
import { HASH, type Level, LIT, PLUS, type TemplatePart } from "./template.ts";
import type { TopicView } from "./topic_view.ts";

/** The rule topic matches (or contains) the request topic. */
export const MATCH = 0;
/** The topics differ. */
export const TOPIC_MISMATCH = 1;
/** A `+` or `#` at the first level never matches a topic starting with `$`. */
export const DOLLAR_WILDCARD = 2;
/** A variable or claim the rule needs is not set. */
export const VALUE_MISSING = 3;
/** A variable or claim the rule needs is empty. */
export const VALUE_EMPTY = 4;
/** A variable or claim holds `/`, `+`, `#` or NUL. */
export const VALUE_UNSAFE = 5;
/** A placeholder would make the first level start with `$`. */
export const VALUE_DOLLAR = 6;
/** The level a channel placeholder stands for is empty. */
export const CHANNEL_EMPTY = 7;
/** The channel is not among the values of the grant claim. */
export const CHANNEL_NOT_GRANTED = 8;
/** `require_grant` is on and the grant claim is not set. */
export const GRANT_MISSING = 9;

/** Scratch state for one match: the client, the rule's binding, and failure details. */
export interface MatchState {
  client: ClientIdentity | null;
  binding: string | undefined;
  requireGrant: boolean;
  /** Name of the variable, claim or channel a failure is about. */
  failName: string;
  /** Whether `failName` is a connection variable (else a claim or channel). */
  failIsVariable: boolean;
  /** The unsafe character or offending value of a failure. */
  failValue: string;
}

/** A fresh state; reuse one per evaluator to avoid allocation. */
export function newMatchState(): MatchState {
  return {
    client: null,
    binding: undefined,
    requireGrant: false,
    failName: "",
    failIsVariable: false,
    failValue: "",
  };
}

// deno-lint-ignore no-control-regex -- NUL is one of the unsafe characters
const UNSAFE = /[/+#\u0000]/;
const DOLLAR = 36;

/** The first character of `/ + # NUL` in a value, or null when it is safe in a topic level. */
export function unsafeCharacter(value: string): string | null {
  const found = UNSAFE.exec(value);
  return found ? found[0] : null;
}

function lookup(part: TemplatePart, client: ClientIdentity | null): unknown {
  if (!client) return undefined;
  if (part.kind === "var") return client[part.value];
  const claims = client.claims;
  return claims && Object.hasOwn(claims, part.value) ? claims[part.value] : undefined;
}

/** Resolves template parts to text, or returns a failure status and records why in `state`. */
function resolveParts(parts: TemplatePart[], state: MatchState): string | number {
  let text = "";
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    if (part.kind === "text") {
      text += part.value;
      continue;
    }
    const value = lookup(part, state.client);
    state.failName = part.value;
    state.failIsVariable = part.kind === "var";
    if (typeof value !== "string") return VALUE_MISSING;
    if (value.length === 0) return VALUE_EMPTY;
    const unsafe = unsafeCharacter(value);
    if (unsafe !== null) {
      state.failValue = unsafe;
      return VALUE_UNSAFE;
    }
    text += value;
  }
  return text;
}

/** Whether `trim()` removes the UTF-16 unit `code` (white space and line terminators). */
function isTrimmed(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/**
 * Whether `grant` (a comma-separated claim) lists `text[from, to)`: some piece between commas,
 * trimmed, is that text. Read in place, without splitting the claim.
 */
function granted(grant: string, text: string, from: number, to: number): boolean {
  const length = to - from;
  for (let start = 0; start <= grant.length;) {
    let end = grant.indexOf(",", start);
    if (end < 0) end = grant.length;
    let a = start;
    let b = end;
    while (a < b && isTrimmed(grant.charCodeAt(a))) a++;
    while (b > a && isTrimmed(grant.charCodeAt(b - 1))) b--;
    if (b - a === length) {
      let k = 0;
      while (k < length && grant.charCodeAt(a + k) === text.charCodeAt(from + k)) k++;
      if (k === length) return true;
    }
    start = end + 1;
  }
  return false;
}

/** Whether template `level` matches (or contains) request level `i` for the client in `state`. */
export function matchTemplateLevel(
  level: Level,
  view: TopicView,
  i: number,
  state: MatchState,
): number {
  return matchTemplateRange(level, view.text, view.start[i], view.end[i], i === 0, state);
}

/**
 * Whether template `level` matches (or contains) the request level `text[from, to)`, the
 * topic's first level when `first`, for the client in `state`.
 */
function matchTemplateRange(
  level: Level,
  text: string,
  from: number,
  to: number,
  first: boolean,
  state: MatchState,
): number {
  if (first && text.charCodeAt(from) === DOLLAR && level.text.charCodeAt(0) !== DOLLAR) {
    state.failName = "";
    state.failValue = text.slice(from, to);
    return VALUE_DOLLAR;
  }
  const prefix = resolveParts(level.prefix!, state);
  if (typeof prefix === "number") return prefix;
  if (level.channel === null || level.channel === undefined) {
    return to - from === prefix.length && text.startsWith(prefix, from) ? MATCH : TOPIC_MISMATCH;
  }
  const suffix = resolveParts(level.suffix!, state);
  if (typeof suffix === "number") return suffix;
  if (
    to - from < prefix.length + suffix.length || !text.startsWith(prefix, from) ||
    !text.endsWith(suffix, to)
  ) {
    return TOPIC_MISMATCH;
  }
  const valueFrom = from + prefix.length;
  const valueTo = to - suffix.length;
  state.failName = level.channel;
  state.failIsVariable = false;
  if (valueTo === valueFrom) return CHANNEL_EMPTY;
  if (state.requireGrant) {
    const binding = state.binding ?? "";
    const claims = state.client?.claims;
    const grant = claims && Object.hasOwn(claims, binding) ? claims[binding] : undefined;
    if (typeof grant !== "string") {
      state.failName = binding;
      return GRANT_MISSING;
    }
    if (!granted(grant, text, valueFrom, valueTo)) {
      state.failValue = text.slice(valueFrom, valueTo);
      return CHANNEL_NOT_GRANTED;
    }
  }
  return MATCH;
}

/**
 * Where `parts`, resolved for `client`, end when they are found in `text` from `at`, without
 * passing `to`; -1 when they are not there or a value is missing or empty.
 */
function partsAt(
  parts: TemplatePart[],
  text: string,
  at: number,
  to: number,
  client: ClientIdentity | null,
): number {
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    const value = part.kind === "text" ? part.value : lookup(part, client);
    if (typeof value !== "string" || (value.length === 0 && part.kind !== "text")) return -1;
    if (at + value.length > to || !text.startsWith(value, at)) return -1;
    at += value.length;
  }
  return at;
}

/** The length of `parts` resolved for `client`; -1 when a value is missing or empty. */
function partsLength(parts: TemplatePart[], client: ClientIdentity | null): number {
  let length = 0;
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    const value = part.kind === "text" ? part.value : lookup(part, client);
    if (typeof value !== "string" || (value.length === 0 && part.kind !== "text")) return -1;
    length += value.length;
  }
  return length;
}

/**
 * Whether `matchTemplateRange` would return MATCH, for a level that holds no `/`, `+`, `#` or
 * NUL (a level of a valid topic that is not a wildcard). Values are compared in place: one
 * found inside such a level cannot hold a character that is unsafe in a level.
 */
export function templateMatchesRange(
  level: Level,
  text: string,
  from: number,
  to: number,
  first: boolean,
  state: MatchState,
): boolean {
  if (first && text.charCodeAt(from) === DOLLAR && level.text.charCodeAt(0) !== DOLLAR) {
    return false;
  }
  const client = state.client;
  const valueFrom = partsAt(level.prefix!, text, from, to, client);
  if (valueFrom < 0) return false;
  if (level.channel === null || level.channel === undefined) return valueFrom === to;
  const suffixLength = partsLength(level.suffix!, client);
  const valueTo = to - suffixLength;
  // An empty channel level never matches; a suffix that overlaps the prefix does not fit.
  if (suffixLength < 0 || valueTo <= valueFrom) return false;
  if (partsAt(level.suffix!, text, valueTo, to, client) !== to) return false;
  if (!state.requireGrant) return true;
  const binding = state.binding ?? "";
  const claims = client?.claims;
  const grant = claims && Object.hasOwn(claims, binding) ? claims[binding] : undefined;
  return typeof grant === "string" && granted(grant, text, valueFrom, valueTo);
}

const PLUS_CHAR = 43;
const HASH_CHAR = 35;

/**
 * Matches rule levels against the request's levels: a topic name (publish) or a filter
 * (subscribe, where the rule must contain every topic the filter can match).
 * With `resolve` false, template levels are taken to match any literal level, which tells a
 * structural mismatch apart from a placeholder problem.
 */
function walk(rule: Level[], view: TopicView, state: MatchState, resolve: boolean): number {
  const ruleLength = rule.length;
  const requestLength = view.count;
  for (let i = 0; i < ruleLength; i++) {
    const level = rule[i];
    if (level.kind === HASH) {
      return i === 0 && view.startsWithDollar() ? DOLLAR_WILDCARD : MATCH;
    }
    if (i === requestLength) return TOPIC_MISMATCH;
    if (view.isChar(i, HASH_CHAR)) {
      // Only a rule `#` here, or `+/#` as the whole rule, holds every topic `#` matches.
      return i === 0 && level.kind === PLUS && ruleLength === 2 && rule[1].kind === HASH
        ? MATCH
        : TOPIC_MISMATCH;
    }
    if (view.isChar(i, PLUS_CHAR)) {
      if (level.kind !== PLUS) return TOPIC_MISMATCH;
    } else if (level.kind === PLUS) {
      if (i === 0 && view.startsWithDollar()) return DOLLAR_WILDCARD;
    } else if (level.kind === LIT) {
      if (!view.equals(i, level.text)) return TOPIC_MISMATCH;
    } else if (resolve) {
      const status = matchTemplateLevel(level, view, i, state);
      if (status !== MATCH) return status;
    }
  }
  return ruleLength === requestLength ? MATCH : TOPIC_MISMATCH;
}

/**
 * Whether rule `levels` match the request topic in `view` for the client in `state`. Returns
 * MATCH or the reason it does not; a structural mismatch is reported before any placeholder
 * problem. In a filter, single-character levels `+` and `#` are wildcards.
 */
export function matchLevels(
  levels: Level[],
  view: TopicView,
  state: MatchState,
  hasTemplate = false,
): number {
  const structural = walk(levels, view, state, false);
  if (structural !== MATCH || !hasTemplate) return structural;
  return walk(levels, view, state, true);
}

/**
 * The rule topic with placeholders filled in for the client in `state`; a channel level
 * takes the request's level when that level fits it. Null when some placeholder cannot be
 * filled in (a claim is missing or unsafe, or no request level fits a channel).
 */
export function resolvedTopic(levels: Level[], view: TopicView, state: MatchState): string | null {
  let out = "";
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (i > 0) out += "/";
    if (level.prefix === undefined) {
      out += level.text;
      continue;
    }
    const prefix = resolveParts(level.prefix, state);
    const suffix = resolveParts(level.suffix ?? [], state);
    if (typeof prefix === "number" || typeof suffix === "number") return null;
    if (!level.channel) {
      out += prefix;
      continue;
    }
    if (i >= view.count || view.isChar(i, PLUS_CHAR) || view.isChar(i, HASH_CHAR)) return null;
    const actual = view.level(i);
    const fits = actual.length > prefix.length + suffix.length && actual.startsWith(prefix) &&
      actual.endsWith(suffix);
    if (!fits) return null;
    out += actual;
  }
  return out;
}

function startsWithDollar(level: Level): boolean {
  return level.kind !== PLUS && level.kind !== HASH && level.text.charCodeAt(0) === DOLLAR;
}

/**
 * Whether rule topic `outer` matches every topic rule topic `inner` can, for any client,
 * taking template levels as opaque: a template level is contained only in `+`, `#` or the
 * same template. Callers must also require equal bindings when `outer` has templates.
 */
export function levelsContain(outer: Level[], inner: Level[]): boolean {
  for (let i = 0; i < outer.length; i++) {
    const o = outer[i];
    if (o.kind === HASH) return !(i === 0 && startsWithDollar(inner[0]));
    if (i === inner.length) return false;
    const n = inner[i];
    if (n.kind === HASH) {
      return i === 0 && o.kind === PLUS && outer.length === 2 && outer[1].kind === HASH;
    }
    if (n.kind === PLUS) {
      if (o.kind !== PLUS) return false;
    } else if (o.kind === PLUS) {
      if (i === 0 && startsWithDollar(n)) return false;
    } else if (o.kind !== n.kind || o.text !== n.text) return false;
  }
  return outer.length === inner.length;
}

/**
 * Rule topics as level patterns: literal levels, `+`, `#`, and template levels holding
 * placeholders (`{$self}`, `{$self.claim}`, `{username}`, `{<binding>}`, channels).
 */

import type { PolicyVersion } from "./types.ts";

/** A level that must equal its text. */
export const LIT = 0;
/** `+`: any one level. */
export const PLUS = 1;
/** `#`: this and every deeper level, including none. */
export const HASH = 2;
/** A level holding placeholders, resolved per request. */
export const TMPL = 3;

/** The kind of a level pattern. */
export type LevelKind = typeof LIT | typeof PLUS | typeof HASH | typeof TMPL;

/** Connection variables, available to every rule. */
export const CONNECTION_VARIABLES = ["username", "client_id", "org_id", "org_short_id"] as const;

/** The name of a connection variable. */
export type ConnectionVariable = typeof CONNECTION_VARIABLES[number];

/** Claim and binding names: a letter or `_`, then letters, digits, `_` or `-`; 64 at most. */
export const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** A piece of a template level: literal text, a connection variable, or a claim. */
export type TemplatePart =
  | { kind: "text"; value: string }
  | { kind: "var"; value: ConnectionVariable }
  | { kind: "claim"; value: string };

/** One level of a compiled topic. */
export interface Level {
  kind: LevelKind;
  /** The level as written in the rule. */
  text: string;
  /** TMPL: the parts before the channel placeholder (all parts when there is none). */
  prefix?: TemplatePart[];
  /** TMPL: the channel placeholder's name, or null. */
  channel?: string | null;
  /** TMPL: the parts after the channel placeholder. */
  suffix?: TemplatePart[];
}

/** A placeholder found in a topic, for validation and the server stage. */
export interface PlaceholderUse {
  /** The placeholder as written, braces included. */
  source: string;
  kind: "var" | "claim" | "channel";
  /** Variable, claim or channel name. */
  name: string;
  /** 0-based level index. */
  level: number;
}

/** Why a topic template cannot be compiled, with a stable finding code. */
export interface TemplateError {
  code:
    | "placeholder_syntax"
    | "unknown_placeholder"
    | "requires_version"
    | "binding_required"
    | "binding_shadows_variable"
    | "channel_conflict"
    | "placeholder_with_wildcard";
  message: string;
}

/** A compiled topic, or the reasons it cannot be compiled. */
export interface TemplateResult {
  levels: Level[];
  placeholders: PlaceholderUse[];
  errors: TemplateError[];
}

/** Splits a topic on `/` (a leading `/` makes an empty first level). */
export function splitLevels(topic: string): string[] {
  return topic.split("/");
}

/** Compiles a filter without placeholders (braces are literal text). */
export function compilePlainFilter(filter: string): Level[] {
  return splitLevels(filter).map((text) => ({
    kind: text === "+" ? PLUS : text === "#" ? HASH : LIT,
    text,
  }));
}

/** Whether a topic holds a placeholder brace at all. */
export function hasPlaceholder(topic: string): boolean {
  return topic.includes("{") || topic.includes("}");
}

function isConnectionVariable(name: string): name is ConnectionVariable {
  return (CONNECTION_VARIABLES as readonly string[]).includes(name);
}

/** How placeholder names are read for one rule. */
export interface TemplateContext {
  /** The rule's `binding`, when it has one. */
  binding?: string;
  version: PolicyVersion;
}

/**
 * Compiles a rule topic. Errors name the placeholder and say what was expected; a topic
 * with errors must not be evaluated. Plain levels are taken from (and added to) `shared`,
 * so rules with common levels share one object each.
 */
export function compileTemplate(
  topic: string,
  context: TemplateContext,
  shared?: Map<string, Level>,
): TemplateResult {
  if (shared && !hasPlaceholder(topic)) return plainTemplate(topic, shared);
  const errors: TemplateError[] = [];
  const placeholders: PlaceholderUse[] = [];
  const texts = splitLevels(topic);
  const levels: Level[] = [];
  const channelsSeen = new Set<string>();
  for (let index = 0; index < texts.length; index++) {
    const text = texts[index];
    if (!hasPlaceholder(text)) {
      let level = shared?.get(text);
      if (!level) {
        level = { kind: text === "+" ? PLUS : text === "#" ? HASH : LIT, text };
        shared?.set(text, level);
      }
      levels.push(level);
      continue;
    }
    const parts = splitTemplateLevel(text, index, context, errors, placeholders);
    if (!parts) {
      levels.push({ kind: LIT, text });
      continue;
    }
    if (/[+#]/.test(text)) {
      errors.push({
        code: "placeholder_with_wildcard",
        message: `level ${index + 1} ("${text}") mixes a placeholder with '+' or '#'`,
      });
    }
    const channelAt = parts.findIndex((part) => part.kind === "channel");
    const channelCount = parts.filter((part) => part.kind === "channel").length;
    if (channelCount > 1) {
      errors.push({
        code: "channel_conflict",
        message: `level ${index + 1} ("${text}") holds ${channelCount} channel placeholders; ` +
          "a level can hold at most one, or the split between them would be ambiguous",
      });
    }
    let channel: string | null = null;
    if (channelAt >= 0) {
      channel = parts[channelAt].value;
      if (channelsSeen.has(channel)) {
        errors.push({
          code: "channel_conflict",
          message: `channel placeholder {${channel}} appears in more than one level`,
        });
      }
      channelsSeen.add(channel);
    }
    // A template level's meaning depends on its text and the rule's binding only.
    const key = `${text}\u0000${context.binding ?? ""}`;
    const known = shared?.get(key);
    if (known) {
      levels.push(known);
      continue;
    }
    const toPart = (part: RawPart): TemplatePart => part as TemplatePart;
    const level: Level = {
      kind: TMPL,
      text,
      prefix: (channelAt >= 0 ? parts.slice(0, channelAt) : parts).map(toPart),
      channel,
      suffix: channelAt >= 0 ? parts.slice(channelAt + 1).map(toPart) : [],
    };
    shared?.set(key, level);
    levels.push(level);
  }
  return { levels, placeholders, errors };
}

const NONE: never[] = [];

/** A topic without placeholders: its levels, shared through `shared`. */
function plainTemplate(topic: string, shared: Map<string, Level>): TemplateResult {
  const texts = splitLevels(topic);
  const levels: Level[] = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    let level = shared.get(text);
    if (!level) {
      level = { kind: text === "+" ? PLUS : text === "#" ? HASH : LIT, text };
      shared.set(text, level);
    }
    levels[i] = level;
  }
  return { levels, placeholders: NONE, errors: NONE };
}

type RawPart =
  | { kind: "text"; value: string }
  | { kind: "var"; value: ConnectionVariable }
  | { kind: "claim"; value: string }
  | { kind: "channel"; value: string };

function splitTemplateLevel(
  text: string,
  level: number,
  context: TemplateContext,
  errors: TemplateError[],
  placeholders: PlaceholderUse[],
): RawPart[] | null {
  const parts: RawPart[] = [];
  let at = 0;
  let ok = true;
  while (at < text.length) {
    const open = text.indexOf("{", at);
    const close = text.indexOf("}", at);
    if (close >= 0 && (open < 0 || close < open)) {
      errors.push({
        code: "placeholder_syntax",
        message: `unbalanced "}" in level ${level + 1} ("${text}")`,
      });
      return null;
    }
    if (open < 0) {
      parts.push({ kind: "text", value: text.slice(at) });
      break;
    }
    if (open > at) parts.push({ kind: "text", value: text.slice(at, open) });
    const end = text.indexOf("}", open + 1);
    const nested = text.indexOf("{", open + 1);
    if (end < 0) {
      errors.push({
        code: "placeholder_syntax",
        message: `unbalanced "{" in level ${level + 1} ("${text}"): missing "}"`,
      });
      return null;
    }
    if (nested >= 0 && nested < end) {
      errors.push({
        code: "placeholder_syntax",
        message: `nested "{" in level ${level + 1} ("${text}")`,
      });
      return null;
    }
    const source = text.slice(open, end + 1);
    const part = readPlaceholder(source.slice(1, -1), source, context, errors);
    if (part) {
      parts.push(part);
      if (part.kind !== "text") {
        placeholders.push({ source, kind: part.kind, name: part.value, level });
      }
    } else ok = false;
    at = end + 1;
  }
  return ok ? parts : null;
}

function readPlaceholder(
  name: string,
  source: string,
  context: TemplateContext,
  errors: TemplateError[],
): RawPart | null {
  const { binding, version } = context;
  if (name === "") {
    errors.push({ code: "placeholder_syntax", message: `empty placeholder "{}"` });
    return null;
  }
  if (name.startsWith("$")) {
    if (version === "2") {
      errors.push({
        code: "requires_version",
        message: `${source} needs version "2.1" or later (this policy is version "2")`,
      });
      return null;
    }
    if (name === "$self") {
      if (!binding) {
        errors.push({
          code: "binding_required",
          message: `{$self} needs "binding": the name of the claim it resolves to`,
        });
        return null;
      }
      return { kind: "claim", value: binding };
    }
    if (name.startsWith("$self.")) {
      const claim = name.slice("$self.".length);
      if (!CLAIM_NAME.test(claim)) {
        errors.push({
          code: "placeholder_syntax",
          message: claim === ""
            ? `${source} names no claim: write {$self.<claim>}, e.g. {$self.agent_id}`
            : `${source}: "${claim}" is not a valid claim name ` +
              "(a letter or _, then letters, digits, _ or -)",
        });
        return null;
      }
      return { kind: "claim", value: claim };
    }
    errors.push({
      code: "unknown_placeholder",
      message: `unknown placeholder ${source} (expected {$self} or {$self.<claim>})`,
    });
    return null;
  }
  if (!CLAIM_NAME.test(name)) {
    errors.push({
      code: "placeholder_syntax",
      message:
        `invalid placeholder ${source}: names are a letter or _, then letters, digits, _ or -`,
    });
    return null;
  }
  if (isConnectionVariable(name)) {
    if (name === binding) {
      errors.push({
        code: "binding_shadows_variable",
        message: `binding "${binding}" has the name of the connection variable {${name}}, ` +
          "so the placeholder is ambiguous; rename the claim",
      });
      return null;
    }
    return { kind: "var", value: name };
  }
  if (name === binding) return { kind: "claim", value: name };
  return { kind: "channel", value: name };
}

/**
 * A deliberately plain evaluator written straight from the ACL reference (acl-policy.md and
 * docs/policy-reference.md), sharing no code with src/acl. It scans every rule for every
 * request and decides containment by the definition: a rule contains a filter when it
 * matches the most general topics the filter can match. Property tests compare it with the
 * indexed evaluator; benchmarks use it as the baseline.
 */

import type { AclRequest, Policy } from "../../../src/acl/types.ts";

/** What the reference decides (the fields compared with the real evaluator). */
export interface ReferenceDecision {
  decision: "allow" | "deny";
  reason: "rule" | "deny_rule" | "default" | "invalid_topic";
  pointer: string | null;
  granted_qos: number | null;
  /** The matched rule's topic with its placeholders filled in for this request. */
  resolved_topic: string | null;
}

interface PlainRule {
  pointer: string;
  topic: string;
  actions: string[];
  selector: string;
  effect: "allow" | "deny";
  qos: number[];
  retain: boolean;
  binding?: string;
  requireGrant: boolean;
}

/** Rules in document order: global, rules, then one per publisher topic. */
export function plainRules(policy: Policy): PlainRule[] {
  const out: PlainRule[] = [];
  const fromRule = (section: string) => (rule: NonNullable<Policy["rules"]>[number], i: number) => {
    out.push({
      pointer: `/${section}/${i}`,
      topic: rule.topic,
      actions: rule.action === "pub+sub" ? ["pub", "sub"] : [rule.action],
      selector: rule.user ?? "*",
      effect: rule.effect ?? "allow",
      qos: rule.qos ?? [0, 1, 2],
      retain: rule.retain ?? true,
      binding: rule.binding,
      requireGrant: rule.require_grant ?? false,
    });
  };
  (policy.global ?? []).forEach(fromRule("global"));
  (policy.rules ?? []).forEach(fromRule("rules"));
  (policy.publishers ?? []).forEach((publisher, i) => {
    publisher.topics.forEach((topic, t) => {
      out.push({
        pointer: `/publishers/${i}/topics/${t}`,
        topic,
        actions: ["pub"],
        selector: publisher.identity,
        effect: "allow",
        qos: publisher.qos ?? [0, 1, 2],
        retain: publisher.retain ?? true,
        requireGrant: false,
      });
    });
  });
  return out;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** MQTT 3.1.1 / 5 section 4.7, as written there. */
function validTopic(topic: string, isFilter: boolean): boolean {
  if (topic === "" || topic.includes("\u0000")) return false;
  if (!topic.isWellFormed() || byteLength(topic) > 65535) return false;
  const levels = topic.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const hasWildcard = level.includes("+") || level.includes("#");
    if (!hasWildcard) continue;
    if (!isFilter) return false;
    if (level === "+") continue;
    if (level === "#" && i === levels.length - 1) continue;
    return false;
  }
  return true;
}

function selects(selector: string, username: string): boolean {
  if (selector === "*") return true;
  if (selector.endsWith("*")) return username.startsWith(selector.slice(0, -1));
  return selector === username;
}

/** One level of a rule after its placeholders were resolved for a client. */
type LevelTest =
  | { kind: "exact"; text: string; fromPlaceholder: boolean }
  | { kind: "plus" }
  | { kind: "hash" }
  | {
    kind: "channel";
    prefix: string;
    suffix: string;
    grants: string[] | null;
    literalDollar: boolean;
  };

const VARIABLES = ["username", "client_id", "org_id", "org_short_id"];

function unsafe(value: string): boolean {
  return value === "" || value.includes("/") || value.includes("+") || value.includes("#") ||
    value.includes("\u0000");
}

/** Resolves a rule's topic for a client; null when a placeholder is missing or unsafe. */
function resolve(rule: PlainRule, client: AclRequest["client"]): LevelTest[] | null {
  const claims = client.claims ?? {};
  const claim = (name: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(claims, name) && typeof claims[name] === "string"
      ? claims[name]
      : undefined;
  const levels: LevelTest[] = [];
  for (const text of rule.topic.split("/")) {
    if (text === "+") {
      levels.push({ kind: "plus" });
      continue;
    }
    if (text === "#") {
      levels.push({ kind: "hash" });
      continue;
    }
    const names = [...text.matchAll(/\{([^{}]*)\}/g)];
    if (names.length === 0) {
      levels.push({ kind: "exact", text, fromPlaceholder: false });
      continue;
    }
    let before = "";
    let after = "";
    let channel = false;
    let cursor = 0;
    for (const match of names) {
      const literal = text.slice(cursor, match.index);
      cursor = match.index! + match[0].length;
      const name = match[1];
      let value: string | undefined;
      if (name === "$self") value = claim(rule.binding!);
      else if (name.startsWith("$self.")) value = claim(name.slice(6));
      else if (VARIABLES.includes(name)) {
        value = (client as unknown as Record<string, unknown>)[name] as string;
      } else if (name === rule.binding) value = claim(name);
      else {
        if (channel) return null;
        channel = true;
        before += literal;
        continue;
      }
      if (typeof value !== "string" || unsafe(value)) return null;
      if (channel) after += literal + value;
      else before += literal + value;
    }
    const rest = text.slice(cursor);
    if (channel) after += rest;
    else before += rest;
    if (!channel) {
      levels.push({ kind: "exact", text: before, fromPlaceholder: true });
      continue;
    }
    let grants: string[] | null = null;
    if (rule.requireGrant) {
      const grant = claim(rule.binding!);
      if (grant === undefined) return null;
      grants = grant.split(",").map((value) => value.trim()).filter((value) => value !== "");
    }
    levels.push({
      kind: "channel",
      prefix: before,
      suffix: after,
      grants,
      literalDollar: text.startsWith("$"),
    });
  }
  // A placeholder may not make the first level start with `$`; only literal text may.
  const first = levels[0];
  const firstText = rule.topic.split("/")[0];
  if (
    first.kind === "exact" && first.fromPlaceholder && first.text.startsWith("$") &&
    !firstText.startsWith("$")
  ) {
    return null;
  }
  return levels;
}

/** Whether resolved rule levels match a topic name (MQTT matching, `$` rule included). */
function matchesName(levels: LevelTest[], topic: string): boolean {
  const parts = topic.split("/");
  const dollar = parts[0].startsWith("$");
  if (dollar && (levels[0].kind === "plus" || levels[0].kind === "hash")) return false;
  const go = (i: number, j: number): boolean => {
    if (j === levels.length) return i === parts.length;
    const level = levels[j];
    if (level.kind === "hash") return true;
    if (i === parts.length) return false;
    const part = parts[i];
    switch (level.kind) {
      case "plus":
        return go(i + 1, j + 1);
      case "exact":
        return level.text === part && go(i + 1, j + 1);
      case "channel": {
        if (!part.startsWith(level.prefix) || !part.endsWith(level.suffix)) return false;
        if (part.length <= level.prefix.length + level.suffix.length) return false;
        const value = part.slice(level.prefix.length, part.length - level.suffix.length);
        if (i === 0 && part.startsWith("$") && !level.literalDollar) return false;
        if (level.grants && !level.grants.includes(value)) return false;
        return go(i + 1, j + 1);
      }
    }
  };
  return go(0, 0);
}

const FRESH = "\u2603fresh";

/**
 * The most general topics a filter can match: every `+` as an unseen word or an empty
 * level, every `#` as 0 to `extra` levels of those (at least one level in all).
 */
function witnesses(filter: string, extra: number): string[] {
  const levels = filter.split("/");
  let topics: string[][] = [[]];
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === "+") {
      topics = topics.flatMap((topic) => [[...topic, FRESH], [...topic, ""]]);
    } else if (level === "#") {
      const grown: string[][] = [];
      for (const topic of topics) {
        let tails: string[][] = [[]];
        for (let k = 0; k <= extra; k++) {
          for (const tail of tails) {
            if (topic.length + tail.length > 0) grown.push([...topic, ...tail]);
          }
          tails = tails.flatMap((tail) => [[...tail, FRESH], [...tail, ""]]);
        }
      }
      topics = grown;
    } else topics = topics.map((topic) => [...topic, level]);
  }
  return topics.map((topic) => topic.join("/"));
}

/** Whether the resolved rule contains the filter: it matches every witness of the filter. */
function containsFilter(levels: LevelTest[], filter: string): boolean {
  return witnesses(filter, levels.length + 1).every((topic) => matchesName(levels, topic));
}

const INVALID: ReferenceDecision = {
  decision: "deny",
  reason: "invalid_topic",
  pointer: null,
  granted_qos: null,
  resolved_topic: null,
};

/** A matching rule's resolved levels as text; a channel level is the request's level there. */
function resolvedText(levels: LevelTest[], topic: string): string {
  const parts = topic.split("/");
  return levels.map((level, j) =>
    level.kind === "exact"
      ? level.text
      : level.kind === "plus"
      ? "+"
      : level.kind === "hash"
      ? "#"
      : parts[j]
  ).join("/");
}

/** Decides a request by scanning every rule. */
export function referenceEvaluate(policy: Policy, request: AclRequest): ReferenceDecision {
  let topic = request.topic;
  if (request.action === "sub" && topic.startsWith("$share/")) {
    const parts = topic.split("/");
    const group = parts[1];
    if (parts.length < 3 || group === "" || group.includes("+") || group.includes("#")) {
      return INVALID;
    }
    topic = parts.slice(2).join("/");
  }
  if (!validTopic(topic, request.action === "sub")) {
    return INVALID;
  }
  const qos = request.qos ?? 0;
  let deny: string | null = null;
  let allow: string | null = null;
  let denyResolved: string | null = null;
  let allowResolved: string | null = null;
  let granted = -1;
  for (const rule of plainRules(policy)) {
    if (!rule.actions.includes(request.action)) continue;
    if (!selects(rule.selector, request.client.username)) continue;
    const levels = resolve(rule, request.client);
    if (!levels) continue;
    let ruleQos: number;
    if (request.action === "pub") {
      if (!matchesName(levels, topic)) continue;
      if (!rule.qos.includes(qos)) continue;
      if (request.retain && !rule.retain) continue;
      ruleQos = qos;
    } else {
      if (!containsFilter(levels, topic)) continue;
      const allowed = rule.qos.filter((q) => q <= qos);
      if (allowed.length === 0) continue;
      ruleQos = Math.max(...allowed);
    }
    if (rule.effect === "deny") {
      if (deny === null) [deny, denyResolved] = [rule.pointer, resolvedText(levels, topic)];
    } else {
      if (allow === null) [allow, allowResolved] = [rule.pointer, resolvedText(levels, topic)];
      granted = Math.max(granted, ruleQos);
    }
  }
  if (deny) {
    return {
      decision: "deny",
      reason: "deny_rule",
      pointer: deny,
      granted_qos: null,
      resolved_topic: denyResolved,
    };
  }
  if (allow) {
    return {
      decision: "allow",
      reason: "rule",
      pointer: allow,
      granted_qos: granted,
      resolved_topic: allowResolved,
    };
  }
  return {
    decision: policy.default,
    reason: "default",
    pointer: null,
    granted_qos: policy.default === "allow" ? qos : null,
    resolved_topic: null,
  };
}

/**
 * Containment of plain filters by brute force: every topic over the filters' own words, an
 * unseen word, the empty level and a `$` word, up to one level longer than the longer
 * filter. The oracle for the reference's witness method.
 */
export function bruteForceContains(outer: string, inner: string): boolean {
  const words = new Set<string>(["", FRESH, "$x"]);
  for (const level of [...outer.split("/"), ...inner.split("/")]) {
    if (level !== "+" && level !== "#") words.add(level);
  }
  const alphabet = [...words];
  const maxLength = Math.max(outer.split("/").length, inner.split("/").length) + 1;
  const outerLevels: LevelTest[] = outer.split("/").map((text) =>
    text === "+"
      ? { kind: "plus" }
      : text === "#"
      ? { kind: "hash" }
      : { kind: "exact", text, fromPlaceholder: false }
  );
  const innerLevels: LevelTest[] = inner.split("/").map((text) =>
    text === "+"
      ? { kind: "plus" }
      : text === "#"
      ? { kind: "hash" }
      : { kind: "exact", text, fromPlaceholder: false }
  );
  let topics: string[][] = [[]];
  for (let length = 1; length <= maxLength; length++) {
    topics = topics.flatMap((topic) => alphabet.map((word) => [...topic, word]));
    for (const topic of topics) {
      const name = topic.join("/");
      if (matchesName(innerLevels, name) && !matchesName(outerLevels, name)) return false;
    }
  }
  return true;
}

/** The witness-based containment of plain filters (what the reference uses). */
export function referenceContains(outer: string, inner: string): boolean {
  const levels: LevelTest[] = outer.split("/").map((text) =>
    text === "+"
      ? { kind: "plus" }
      : text === "#"
      ? { kind: "hash" }
      : { kind: "exact", text, fromPlaceholder: false }
  );
  return containsFilter(levels, inner);
}

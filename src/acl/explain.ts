/**
 * Decisions in words, in the dashboard simulator's form:
 * `Allowed - matches rules[0] (agents/{$self}/card resolves to agents/scout/card which matches agents/scout/card)`,
 * and for a denial by default, the allow rule that a missing claim or client id, the QoS or
 * retain kept from applying.
 */

import type { AclRequest, Decision, MatchedRule, QoS } from "./types.ts";
import { parseSharedSubscription } from "./topic.ts";
import type { CompiledPolicy, CompiledRule } from "./compile.ts";
import { evaluate } from "./evaluate.ts";
import { selectorMatches } from "./selector.ts";
import { HASH, LIT, type TemplatePart, TMPL } from "./template.ts";

function rulePath(matched: MatchedRule): string {
  return `${matched.section}[${matched.index}]`;
}

function requestedTopic(request: AclRequest): string {
  if (request.action !== "sub") return request.topic;
  const shared = parseSharedSubscription(request.topic);
  return "error" in shared ? request.topic : shared.filter;
}

function ruleClause(matched: MatchedRule, request: AclRequest): string {
  const topic = requestedTopic(request);
  if (matched.topic === matched.resolved_topic) return `${matched.topic} matches ${topic}`;
  return `${matched.topic} resolves to ${matched.resolved_topic} which matches ${topic}`;
}

/** The one-line verdict for a decision on `request`. */
export function describeDecision(decision: Decision, request: AclRequest): string {
  const verdict = decision.decision === "allow" ? "Allowed" : "Denied";
  switch (decision.reason) {
    case "invalid_topic":
      return `Denied - invalid topic "${request.topic}": ${decision.detail}`;
    case "default":
      return `${verdict} - no rule matches (default: ${decision.default})`;
    case "deny_rule":
      return `Denied - matches deny rule ${rulePath(decision.matched!)} (${
        ruleClause(decision.matched!, request)
      })`;
    case "rule":
      return `Allowed - matches ${rulePath(decision.matched!)} (${
        ruleClause(decision.matched!, request)
      })`;
  }
}

/** Something a request lacks for an allow rule to apply. */
export type Shortfall =
  /** The client has no value (or an empty one) for a claim the rule puts into its topic. */
  | { kind: "claim"; name: string; value: string }
  /** The client lacks a connection variable the rule puts into its topic (`client_id`…). */
  | { kind: "variable"; name: "client_id" | "org_id" | "org_short_id"; value: string }
  /** The rule allows other QoS levels than the one requested. */
  | { kind: "qos"; allowed: QoS[]; requested: QoS }
  /** The publish is retained and the rule forbids that. */
  | { kind: "retain" };

/** Why a request was denied by default: an allow rule that applies once `missing` is given. */
export interface DenialReason {
  /** The rule, e.g. `rules[0]`. */
  path: string;
  pointer: string;
  topic: string;
  line: number | null;
  missing: Shortfall[];
}

/**
 * The value `parts` must resolve to for `level` (one placeholder between literal text), or
 * null when the level holds no placeholder, several, or literal text that does not fit.
 */
function placeholderValue(parts: TemplatePart[], level: string): string | null {
  const holes = parts.filter((part) => part.kind !== "text");
  if (holes.length !== 1) return null;
  const at = parts.indexOf(holes[0]);
  const before = parts.slice(0, at).map((part) => part.value).join("");
  const after = parts.slice(at + 1).map((part) => part.value).join("");
  if (level.length < before.length + after.length + 1) return null;
  if (!level.startsWith(before) || !level.endsWith(after)) return null;
  return level.slice(before.length, level.length - after.length);
}

/**
 * The identity values `rule` needs and `request` lacks, read off the requested topic; null
 * when a missing value cannot be derived (it would then not explain the denial).
 */
function missingIdentity(
  rule: CompiledRule,
  request: AclRequest,
  topic: string,
): Shortfall[] | null {
  const levels = topic.split("/");
  const missing: Shortfall[] = [];
  const client = request.client;
  for (let i = 0; i < rule.levels.length; i++) {
    const level = rule.levels[i];
    if (level.kind !== TMPL || level.channel) continue;
    const parts = level.prefix ?? [];
    for (const part of parts) {
      const lacking = part.kind === "claim"
        ? !client.claims?.[part.value]
        : part.kind === "var" && part.value !== "username" && client[part.value] === undefined;
      if (!lacking) continue;
      const value = i < levels.length ? placeholderValue(parts, levels[i]) : null;
      if (value === null || /[+#]/.test(value)) return null;
      missing.push(
        part.kind === "claim"
          ? { kind: "claim", name: part.value, value }
          : { kind: "variable", name: part.value as "client_id", value },
      );
    }
  }
  return missing;
}

function withIdentity(request: AclRequest, missing: Shortfall[]): AclRequest {
  const client = { ...request.client, claims: { ...request.client.claims } };
  for (const shortfall of missing) {
    if (shortfall.kind === "claim") client.claims[shortfall.name] = shortfall.value;
    else if (shortfall.kind === "variable") client[shortfall.name] = shortfall.value;
  }
  return { ...request, client };
}

/**
 * A cheap necessary condition for `rule` to apply to `levels` whatever the client's identity,
 * QoS or retain: its literal levels are the topic's and its level count fits.
 */
function fitsLevels(rule: CompiledRule, levels: string[]): boolean {
  const ruleLevels = rule.levels;
  for (let i = 0; i < ruleLevels.length; i++) {
    const level = ruleLevels[i];
    if (level.kind === HASH) return true;
    if (i >= levels.length) return false;
    if (level.kind === LIT && level.text !== levels[i]) return false;
  }
  return ruleLevels.length === levels.length;
}

/**
 * The allow rules of a policy by their literal prefix, up to two levels (`=a/b`, `=a`, or `""`
 * when the first level is not literal).
 */
const byPrefix = new WeakMap<CompiledPolicy, Map<string, CompiledRule[]>>();

function prefixKey(rule: CompiledRule): string {
  const [first, second] = rule.levels;
  if (first.kind !== LIT) return "";
  return second?.kind === LIT ? `=${first.text}/${second.text}` : `=${first.text}`;
}

/** The allow rules whose literal prefix can fit `levels`, in document order. */
function allowRulesFor(policy: CompiledPolicy, levels: string[]): CompiledRule[] {
  let groups = byPrefix.get(policy);
  if (!groups) {
    groups = new Map();
    for (const rule of policy.rules) {
      if (rule.effect !== "allow") continue;
      const key = prefixKey(rule);
      let group = groups.get(key);
      if (!group) groups.set(key, group = []);
      group.push(rule);
    }
    byPrefix.set(policy, groups);
  }
  const found = [
    groups.get(`=${levels[0]}/${levels[1]}`) ?? [],
    groups.get(`=${levels[0]}`) ?? [],
    groups.get("") ?? [],
  ].filter((group) => group.length > 0);
  if (found.length <= 1) return found[0] ?? [];
  return found.flat().sort((a, b) => a.id - b.id);
}

/** Decides a request without a trace (what the broker does). */
export type Decide = (policy: CompiledPolicy, request: AclRequest) => Decision;

const decideFast: Decide = (policy, request) => evaluate(policy, request);

/** The QoS levels a rule allows. */
function allowedQos(rule: CompiledRule): QoS[] {
  return ([0, 1, 2] as QoS[]).filter((qos) => rule.qosMask & (1 << qos));
}

/**
 * Why `request` was denied by the policy's default, when an allow rule would apply to it but
 * for a claim or client id the client lacks, the QoS asked for, or retain: the first such
 * rule in document order. Null for any other decision, or when no rule is that close.
 */
export function explainDenial(
  policy: CompiledPolicy,
  request: AclRequest,
  decision: Decision,
  decide: Decide = decideFast,
): DenialReason | null {
  if (decision.decision !== "deny" || decision.reason !== "default") return null;
  const topic = requestedTopic(request);
  const levels = topic.split("/");
  const action = request.action === "pub" ? 1 : 2;
  // The rule that allows `candidate`, if the decision is then allow.
  const allowing = (candidate: AclRequest): MatchedRule | null => {
    const outcome = decide(policy, candidate);
    return outcome.decision === "allow" && outcome.reason === "rule" ? outcome.matched : null;
  };
  for (const rule of allowRulesFor(policy, levels)) {
    if ((rule.actions & action) === 0) continue;
    if (!fitsLevels(rule, levels)) continue;
    if (!selectorMatches(rule.selector, request.client.username)) continue;
    const identity = missingIdentity(rule, request, topic);
    if (identity === null) continue;
    const missing = [...identity];
    let candidate = withIdentity(request, identity);
    let found = identity.length > 0 ? allowing(candidate) : null;
    if (found === null && request.retain) {
      candidate = { ...candidate, retain: false };
      missing.push({ kind: "retain" });
      found = allowing(candidate);
    }
    if (found === null) {
      const requested = (request.qos ?? 0) as QoS;
      for (const qos of allowedQos(rule)) {
        if (qos === requested) continue;
        found = allowing({ ...candidate, qos });
        if (found !== null) break;
      }
      if (found === null) continue;
      const by = ruleAt(policy, found.pointer) ?? rule;
      missing.push({ kind: "qos", allowed: allowedQos(by), requested });
    }
    if (missing.length === 0) continue;
    // The allowing rule is this one, or an earlier one the same shortfall opens.
    return {
      path: `${found.section}[${found.index}]`,
      pointer: found.pointer,
      topic: found.topic,
      line: found.line,
      missing,
    };
  }
  return null;
}

function ruleAt(policy: CompiledPolicy, pointer: string): CompiledRule | undefined {
  return policy.rules.find((rule) => rule.pointer === pointer);
}

/** One shortfall in words: `the client has no claim "agent_id" ("scout" would match)`. */
export function describeShortfall(shortfall: Shortfall): string {
  switch (shortfall.kind) {
    case "claim":
      return `the client has no claim "${shortfall.name}" (${
        JSON.stringify(shortfall.value)
      } would match)`;
    case "variable":
      return `the client has no ${shortfall.name} (${JSON.stringify(shortfall.value)} would match)`;
    case "qos":
      return `it allows QoS ${
        shortfall.allowed.join(" or ")
      } only, and QoS ${shortfall.requested} was asked for`;
    case "retain":
      return "it does not allow retained publishes (retain: false)";
  }
}

/** The "why" line: `rules[0] (agents/{$self}/card) would allow this, but …`. */
export function describeDenial(reason: DenialReason): string {
  return `${reason.path} (${reason.topic}) would allow this, but ${
    reason.missing.map(describeShortfall).join(", and ")
  }`;
}

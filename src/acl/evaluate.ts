/**
 * The evaluator: decides one PUBLISH or SUBSCRIBE against a compiled policy. Deny overrides
 * allow, the result does not depend on rule order, and anything unsafe fails closed.
 */

import type { AclRequest, Decision, MatchedRule, QoS, TraceEntry } from "./types.ts";
import { type CompiledPolicy, type CompiledRule, MANY_TEMPLATES } from "./compile.ts";
import { DENY_FLAG, FLAG_BITS, RETAIN_FLAG, TEMPLATE_FLAG } from "./rule_flags.ts";
import type { Level } from "./template.ts";
import { PUB, SUB } from "./action_bits.ts";
import {
  CHANNEL_EMPTY,
  CHANNEL_NOT_GRANTED,
  DOLLAR_WILDCARD,
  GRANT_MISSING,
  MATCH,
  matchLevels,
  type MatchState,
  matchTemplateLevel,
  newMatchState,
  resolvedTopic,
  TOPIC_MISMATCH,
  VALUE_DOLLAR,
  VALUE_EMPTY,
  VALUE_MISSING,
  VALUE_UNSAFE,
} from "./match.ts";
import { ANY, EXACT, selectorMatches } from "./selector.ts";
import { parseSharedSubscription, topicError } from "./topic.ts";
import { levelLimitError, MAX_TOPIC_LEVELS, topicLevelCount } from "./platform_limits.ts";
import {
  isSimpleFilterFrom,
  scanTopic,
  SHORT_TOPIC,
  specialAt,
  splitPlainTopic,
  TopicView,
} from "./topic_view.ts";
import {
  EQUALS,
  EVERYTHING,
  restMatches,
  type RuleScan,
  SCAN_LIMIT,
  type ScannedRule,
  startsWith,
  UNDER,
} from "./rule_scan.ts";

/** The rule does not cover the request's action. */
const ACTION_NOT_COVERED = 100;
/** The rule's user selector does not select the username. */
const USER_NOT_SELECTED = 101;
/** The requested QoS is not allowed by the rule. */
const QOS_NOT_ALLOWED = 102;
/** The publish is retained and the rule forbids retained publishes. */
const RETAIN_NOT_ALLOWED = 103;
const DOLLAR_CHAR = 36;

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Also return every rule's verdict, in document order (slower; for people, not brokers). */
  trace?: boolean;
}

const state: MatchState = newMatchState();
const view = new TopicView();
const scratch: number[] = [];
let granted = 0;
let firstDeny = -1;
let firstAllow = -1;
/** Where the records of `firstDeny` and `firstAllow` are (fast path only). */
let firstDenyAt = -1;
let firstAllowAt = -1;
let bestQos = -1;
/** Per prefix selector of a scanned policy: the decision that checked it, and its answer. */
const prefixChecked = new Int32Array(SCAN_LIMIT);
const prefixSelects = new Uint8Array(SCAN_LIMIT);
let prefixGeneration = 0;

/**
 * Folds an applying rule (its record at `at`, on the fast path) into the decision being
 * made: deny wins, then document order.
 */
function consider(id: number, deny: boolean, at: number): void {
  if (deny) {
    if (firstDeny < 0 || id < firstDeny) {
      firstDeny = id;
      firstDenyAt = at;
    }
  } else {
    if (firstAllow < 0 || id < firstAllow) {
      firstAllow = id;
      firstAllowAt = at;
    }
    if (granted > bestQos) bestQos = granted;
  }
}

/** Every check of one rule, in the order that explains a refusal best. */
function checkRule(rule: CompiledRule, action: number, request: AclRequest): number {
  if ((rule.actions & action) === 0) return ACTION_NOT_COVERED;
  if (!selectorMatches(rule.selector, request.client.username)) return USER_NOT_SELECTED;
  state.binding = rule.binding;
  state.requireGrant = rule.requireGrant;
  const status = matchLevels(rule.levels, view, state, rule.hasTemplate);
  if (status !== MATCH) return status;
  return checkQos(rule.qosMask | (rule.retain ? RETAIN_FLAG : 0), action, request);
}

/**
 * The checks the index leaves to a candidate: action, selector and every level without a
 * placeholder are implied by where the index found it.
 */
function checkCandidate(
  policy: CompiledPolicy,
  records: Int32Array,
  at: number,
  flags: number,
  action: number,
  request: AclRequest,
): number {
  if (flags & TEMPLATE_FLAG) {
    const table = policy.table;
    const position = table.templateAt(records, at);
    if (position === MANY_TEMPLATES) {
      const rule = policy.rules[table.id(records, at)];
      state.binding = rule.binding;
      state.requireGrant = rule.requireGrant;
      const templates = rule.templates;
      for (let t = 0; t < templates.length; t += 2) {
        const status = matchTemplateLevel(
          templates[t + 1] as Level,
          view,
          templates[t] as number,
          state,
        );
        if (status !== MATCH) return status;
      }
    } else {
      state.binding = table.binding(records, at);
      state.requireGrant = table.requireGrant(records, at);
      const status = matchTemplateLevel(table.templateLevel(records, at), view, position, state);
      if (status !== MATCH) return status;
    }
  }
  return checkQos(flags, action, request);
}

/** QoS and retain against a rule's flags (see `RuleTable`); sets `granted`. */
function checkQos(flags: number, action: number, request: AclRequest): number {
  const qos = request.qos ?? 0;
  if (action === PUB) {
    if ((flags & (1 << qos)) === 0) return QOS_NOT_ALLOWED;
    if (request.retain === true && (flags & RETAIN_FLAG) === 0) return RETAIN_NOT_ALLOWED;
    granted = qos;
    return MATCH;
  }
  for (let q = qos; q >= 0; q--) {
    if (flags & (1 << q)) {
      granted = q;
      return MATCH;
    }
  }
  return QOS_NOT_ALLOWED;
}

/**
 * Folds every rule of a small policy covering the action (`scan`) that applies into the decision,
 * stopping at the first deny (which wins). The topic is valid and read in place.
 */
function scanRules(scan: ScannedRule[], action: number, topic: string, request: AclRequest) {
  const username = request.client.username;
  if (++prefixGeneration === 0x40000000) {
    prefixGeneration = 1;
    prefixChecked.fill(0);
  }
  const generation = prefixGeneration;
  for (let k = 0; k < scan.length; k++) {
    const rule = scan[k];
    const selectorKind = rule.selectorKind;
    if (selectorKind === EXACT) {
      if (username !== rule.selectorValue) continue;
    } else if (selectorKind !== ANY) {
      const id = rule.prefixId;
      if (prefixChecked[id] !== generation) {
        prefixChecked[id] = generation;
        prefixSelects[id] = startsWith(username, rule.selectorValue) ? 1 : 0;
      }
      if (prefixSelects[id] === 0) continue;
    }
    switch (rule.check) {
      case EQUALS:
        if (topic !== rule.text) continue;
        break;
      case UNDER:
        if (topic !== rule.text && !startsWith(topic, rule.under)) continue;
        break;
      case EVERYTHING:
        if (topic.charCodeAt(0) === DOLLAR_CHAR) continue;
        break;
      default:
        if (!startsWith(topic, rule.text)) continue;
        state.binding = rule.binding;
        state.requireGrant = rule.requireGrant;
        if (!restMatches(rule, topic, state)) continue;
    }
    const flags = rule.flags;
    if (checkQos(flags, action, request) !== MATCH) continue;
    const deny = (flags & DENY_FLAG) !== 0;
    consider(rule.id, deny, -1);
    if (deny) return;
  }
}

/**
 * Decides a request. The policy's default applies only when no rule applies; a deny rule
 * that applies always wins. An invalid topic is denied with reason `invalid_topic`.
 */
export function evaluate(
  policy: CompiledPolicy,
  request: AclRequest,
  options?: EvaluateOptions,
): Decision {
  const action = request.action === "pub" ? PUB : SUB;
  let topic = request.topic;
  if (action === SUB && topic.charCodeAt(0) === 36 && topic.startsWith("$share/")) {
    const shared = parseSharedSubscription(topic);
    if ("error" in shared) return invalid(policy, shared.error, options);
    topic = shared.filter;
  }
  const kind = action === PUB ? "name" : "filter";
  const scan = policy.scan;
  if (scan !== null && !options?.trace) return decideByScan(policy, scan, request, action, topic);
  if (!scanTopic(view, topic, kind)) return invalid(policy, topicError(topic, kind)!, options);
  if (view.count > MAX_TOPIC_LEVELS) return invalid(policy, levelLimitError(view.count)!, options);
  state.client = request.client;

  firstDeny = -1;
  firstAllow = -1;
  bestQos = -1;
  let trace: TraceEntry[] | undefined;
  if (options?.trace) {
    trace = [];
    for (const rule of policy.rules) {
      const status = checkRule(rule, action, request);
      trace.push({
        pointer: rule.pointer,
        applies: status === MATCH,
        effect: rule.effect,
        why: explain(rule, status, request),
      });
      if (status === MATCH) consider(rule.id, rule.effect === "deny", -1);
    }
  } else {
    scratch.length = 0;
    policy.index.candidates(action, request.client.username, view, scratch);
    const records = policy.index.records(action);
    for (let k = 0; k < scratch.length; k++) {
      const at = scratch[k];
      const entry = records[at];
      const flags = entry & ((1 << FLAG_BITS) - 1);
      if (checkCandidate(policy, records, at, flags, action, request) === MATCH) {
        consider(entry >> FLAG_BITS, (flags & DENY_FLAG) !== 0, at);
      }
    }
    scratch.length = 0;
  }
  const decision = decided(
    policy,
    request,
    firstDeny >= 0 ? matched(policy, action, firstDeny, firstDenyAt) : null,
    firstDeny < 0 && firstAllow >= 0 ? matched(policy, action, firstAllow, firstAllowAt) : null,
  );
  state.client = null;
  if (trace) decision.trace = trace;
  return decision;
}

/** The decision of a small policy, by scanning its rules (rule_scan.ts). */
function decideByScan(
  policy: CompiledPolicy,
  scan: RuleScan,
  request: AclRequest,
  action: number,
  topic: string,
): Decision {
  // The topic is read in place: the view is filled only when a matched rule needs it.
  let plain = false;
  let split = true;
  if (topic.length > 0 && topic.length <= SHORT_TOPIC) {
    const at = specialAt(topic);
    plain = at < 0;
    split = !plain && !(action === SUB && isSimpleFilterFrom(topic, at));
  }
  if (split) {
    const kind = action === PUB ? "name" : "filter";
    if (!scanTopic(view, topic, kind)) return invalid(policy, topicError(topic, kind)!);
  }
  // More than 100 levels take at least 100 characters (`/` alone makes two).
  if (topic.length >= MAX_TOPIC_LEVELS) {
    const levels = split ? view.count : topicLevelCount(topic);
    if (levels > MAX_TOPIC_LEVELS) return invalid(policy, levelLimitError(levels)!);
  }
  state.client = request.client;
  firstDeny = -1;
  firstAllow = -1;
  bestQos = -1;
  scanRules(action === PUB ? scan.pub : scan.sub, action, topic, request);
  const decision = decided(
    policy,
    request,
    firstDeny >= 0 ? scannedMatch(policy, scan.rules[firstDeny], topic, plain, split) : null,
    firstDeny < 0 && firstAllow >= 0
      ? scannedMatch(policy, scan.rules[firstAllow], topic, plain, split)
      : null,
  );
  state.client = null;
  return decision;
}

/** The decision: by the deny rule that matched, else by the first allow rule, else default. */
function decided(
  policy: CompiledPolicy,
  request: AclRequest,
  deny: MatchedRule | null,
  allow: MatchedRule | null,
): Decision {
  if (deny !== null) {
    return {
      decision: "deny",
      reason: "deny_rule",
      matched: deny,
      granted_qos: null,
      default: policy.default,
    };
  }
  if (allow !== null) {
    return {
      decision: "allow",
      reason: "rule",
      matched: allow,
      granted_qos: bestQos as QoS,
      default: policy.default,
    };
  }
  return {
    decision: policy.default,
    reason: "default",
    matched: null,
    granted_qos: policy.default === "allow" ? (request.qos ?? 0) as QoS : null,
    default: policy.default,
  };
}

function invalid(policy: CompiledPolicy, detail: string, options?: EvaluateOptions): Decision {
  const decision: Decision = {
    decision: "deny",
    reason: "invalid_topic",
    matched: null,
    granted_qos: null,
    detail,
    default: policy.default,
  };
  if (options?.trace) {
    decision.trace = policy.rules.map((rule) => ({
      pointer: rule.pointer,
      applies: false,
      effect: rule.effect,
      why: "the requested topic is invalid",
    }));
  }
  return decision;
}

/**
 * The matched rule of a scanned policy. A `plain` topic that a rule without wildcards matched
 * is that rule's topic resolved; otherwise the placeholders are resolved against the view
 * (filled here unless `split`).
 */
function scannedMatch(
  policy: CompiledPolicy,
  scanned: ScannedRule,
  topic: string,
  plain: boolean,
  split: boolean,
): MatchedRule {
  const rule = policy.rules[scanned.id];
  let resolved = rule.topic;
  if (rule.hasTemplate) {
    if (plain && !scanned.wild) resolved = topic;
    else {
      if (!split) splitPlainTopic(view, topic);
      state.binding = rule.binding;
      state.requireGrant = rule.requireGrant;
      resolved = resolvedTopic(rule.levels, view, state) ?? rule.topic;
    }
  }
  return {
    section: rule.section,
    index: rule.index,
    pointer: policy.table.pointer(scanned.id),
    line: rule.line,
    topic: rule.topic,
    resolved_topic: resolved,
  };
}

/** The matched rule `id`, from its record at `at` (or, from the trace path, its rule object). */
function matched(policy: CompiledPolicy, action: number, id: number, at: number): MatchedRule {
  const table = policy.table;
  const topic = table.topic(id);
  if (at < 0) {
    const rule = policy.rules[id];
    state.binding = rule.binding;
    state.requireGrant = rule.requireGrant;
    return {
      section: rule.section,
      index: rule.index,
      pointer: table.pointer(id),
      line: rule.line,
      topic,
      resolved_topic: rule.hasTemplate ? resolvedTopic(rule.levels, view, state) ?? topic : topic,
    };
  }
  const records = policy.index.records(action);
  let resolved = topic;
  const position = table.templateAt(records, at);
  if (position === MANY_TEMPLATES) {
    const rule = policy.rules[id];
    state.binding = rule.binding;
    state.requireGrant = rule.requireGrant;
    resolved = resolvedTopic(rule.levels, view, state) ?? topic;
  } else if (position >= 0) {
    // The rule matched, so its placeholder level resolved to the request's level.
    resolved = topic.slice(0, table.templateStart(records, at)) + view.level(position) +
      topic.slice(table.templateEnd(records, at));
  }
  return {
    section: table.section(records, at),
    index: table.index(records, at),
    pointer: table.pointer(id),
    line: table.line(records, at),
    topic,
    resolved_topic: resolved,
  };
}

function describeRuleTopic(rule: CompiledRule): string {
  const resolved = rule.hasTemplate ? resolvedTopic(rule.levels, view, state) : null;
  return resolved === null ? rule.topic : `${rule.topic} resolves to ${resolved}`;
}

function placeholderName(): string {
  return state.failIsVariable ? `{${state.failName}}` : `claim ${state.failName}`;
}

function explain(rule: CompiledRule, status: number, request: AclRequest) {
  const topic = view.text;
  const verb = request.action === "pub" ? "matches" : "covers";
  switch (status) {
    case MATCH: {
      const qos = request.action === "sub" ? ` (granted QoS ${granted})` : "";
      return `${describeRuleTopic(rule)} which ${verb} ${topic}${qos}`;
    }
    case ACTION_NOT_COVERED:
      return `action ${ruleActionName(rule)} does not cover ${request.action}`;
    case USER_NOT_SELECTED:
      return `user selector ${rule.selector.text} does not select username ` +
        `"${request.client.username}"`;
    case TOPIC_MISMATCH:
      return `${describeRuleTopic(rule)} which does not ${
        verb === "matches" ? "match" : "cover"
      } ${topic}`;
    case DOLLAR_WILDCARD:
      return `${rule.topic} starts with a wildcard, which never matches a topic starting with $`;
    case VALUE_MISSING:
      return `${placeholderName()} is not set, so ${rule.topic} cannot resolve`;
    case VALUE_EMPTY:
      return `${placeholderName()} is empty, so ${rule.topic} cannot resolve`;
    case VALUE_UNSAFE:
      return `${placeholderName()} contains '${
        state.failValue === "\u0000" ? "NUL" : state.failValue
      }', which is unsafe in a topic level, so ${rule.topic} does not apply`;
    case VALUE_DOLLAR:
      return `a placeholder would make the first level "${state.failValue}" start with $, ` +
        "which only a literal $ may do";
    case CHANNEL_EMPTY:
      return `channel {${state.failName}} would be an empty level`;
    case GRANT_MISSING:
      return `require_grant: claim ${state.failName} is not set, so no channel is granted`;
    case CHANNEL_NOT_GRANTED:
      return `require_grant: channel "${state.failValue}" is not in claim ${rule.binding} ` +
        `(${JSON.stringify(request.client.claims?.[rule.binding ?? ""] ?? "")})`;
    case QOS_NOT_ALLOWED:
      return request.action === "pub"
        ? `QoS ${request.qos ?? 0} is not allowed (qos: ${qosList(rule)})`
        : `no allowed QoS at or below ${request.qos ?? 0} (qos: ${qosList(rule)})`;
    case RETAIN_NOT_ALLOWED:
      return "retained publishes are not allowed (retain: false)";
  }
  return "does not apply";
}

function ruleActionName(rule: CompiledRule): string {
  return rule.actions === (PUB | SUB) ? "pub+sub" : rule.actions === PUB ? "pub" : "sub";
}

function qosList(rule: CompiledRule): string {
  return `[${[0, 1, 2].filter((q) => rule.qosMask & (1 << q)).join(", ")}]`;
}

/**
 * Decisions in words, in the dashboard simulator's form:
 * `Allowed - matches rules[0] (agents/{$self}/card resolves to agents/scout/card which matches agents/scout/card)`.
 */

import type { AclRequest, Decision, MatchedRule } from "./types.ts";
import { parseSharedSubscription } from "./topic.ts";

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

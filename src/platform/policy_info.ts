/**
 * What the platform needs to know about a policy beyond evaluating it: which rules put
 * which claims into topics (to refuse unsafe claim values) and which claims and user
 * selectors the server stage of validation checks against the organization.
 */

import { type CompiledPolicy, compilePolicy, compileTemplate, type Policy } from "../acl/mod.ts";

/** A claim used by a rule: substituted into its topic, or read as a channel grant. */
export interface ClaimUse {
  claim: string;
  /** `substituted`: `{$self}`, `{$self.x}` or version 2's `{binding}`; `grant`: require_grant. */
  kind: "substituted" | "grant";
  /** Human path, e.g. `rules[0]`. */
  path: string;
  /** JSON pointer of the rule's topic. */
  pointer: string;
  topic: string;
}

/** A user selector written in the policy (`user` of a rule, `identity` of a publisher). */
export interface SelectorUse {
  selector: string;
  kind: "user" | "identity";
  path: string;
  pointer: string;
}

/** A stored policy, compiled once for its revision. */
export interface PolicyState {
  revision: number;
  policy: Policy;
  compiled: CompiledPolicy;
  claims: ClaimUse[];
  selectors: SelectorUse[];
}

/** Claims and selectors of a policy-shaped document (best effort on invalid ones). */
export function policyUses(document: unknown): { claims: ClaimUse[]; selectors: SelectorUse[] } {
  const claims: ClaimUse[] = [];
  const selectors: SelectorUse[] = [];
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    return { claims, selectors };
  }
  const policy = document as Record<string, unknown>;
  const version = typeof policy.version === "string" ? policy.version : "2.2";
  for (const section of ["global", "rules"] as const) {
    const rules = policy[section];
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule, index) => {
      if (rule === null || typeof rule !== "object") return;
      const { topic, binding, user, require_grant } = rule as Record<string, unknown>;
      const path = `${section}[${index}]`;
      const pointer = `/${section}/${index}`;
      if (typeof user === "string" && user !== "*") {
        selectors.push({ selector: user, kind: "user", path, pointer: `${pointer}/user` });
      }
      if (typeof topic !== "string") return;
      const template = compileTemplate(topic, {
        binding: typeof binding === "string" ? binding : undefined,
        version: version as Policy["version"],
      });
      const seen = new Set<string>();
      for (const use of template.placeholders) {
        if (use.kind !== "claim" || seen.has(use.name)) continue;
        seen.add(use.name);
        claims.push({
          claim: use.name,
          kind: "substituted",
          path,
          pointer: `${pointer}/topic`,
          topic,
        });
      }
      if (
        require_grant === true && typeof binding === "string" &&
        template.placeholders.some((use) => use.kind === "channel")
      ) {
        claims.push({ claim: binding, kind: "grant", path, pointer: `${pointer}/binding`, topic });
      }
    });
  }
  const publishers = policy.publishers;
  if (Array.isArray(publishers)) {
    publishers.forEach((publisher, index) => {
      if (publisher === null || typeof publisher !== "object") return;
      const identity = (publisher as Record<string, unknown>).identity;
      if (typeof identity !== "string") return;
      selectors.push({
        selector: identity,
        kind: "identity",
        path: `publishers[${index}]`,
        pointer: `/publishers/${index}/identity`,
      });
    });
  }
  return { claims, selectors };
}

/** Compiles a stored (already validated) policy with what the platform needs about it. */
export function policyState(revision: number, policy: Policy): PolicyState {
  return { revision, policy, compiled: compilePolicy(policy), ...policyUses(policy) };
}

/** Whether a `user`/`identity` selector (exact, `prefix-*` or `*`) selects `username`. */
export function selectorSelects(selector: string, username: string): boolean {
  if (selector === "*") return true;
  if (selector.endsWith("*")) return username.startsWith(selector.slice(0, -1));
  return selector === username;
}

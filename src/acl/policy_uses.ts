/**
 * Which claims a policy puts into topics and which user selectors it names: what the server
 * stage of validation checks against the organization, and what decides whether a claim
 * value with `/ + #` or NUL must be refused.
 */

import type { Policy } from "./types.ts";
import { compileTemplate } from "./template.ts";

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
      const { identity, topics } = publisher as Record<string, unknown>;
      const path = `publishers[${index}]`;
      if (typeof identity === "string") {
        selectors.push({
          selector: identity,
          kind: "identity",
          path,
          pointer: `/publishers/${index}/identity`,
        });
      }
      if (!Array.isArray(topics)) return;
      topics.forEach((topic, t) => {
        if (typeof topic !== "string") return;
        const template = compileTemplate(topic, { version: version as Policy["version"] });
        for (const use of template.placeholders) {
          if (use.kind !== "claim") continue;
          claims.push({
            claim: use.name,
            kind: "substituted",
            path,
            pointer: `/publishers/${index}/topics/${t}`,
            topic,
          });
        }
      });
    });
  }
  return { claims, selectors };
}

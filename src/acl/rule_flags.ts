/**
 * A rule's flags, as one small integer: its allowed QoS levels in bits 0 to 2, then the bits
 * below. The index stores them beside each rule id, so a decision on a rule without
 * placeholders reads nothing else about the rule.
 */

import type { CompiledRule } from "./compile.ts";

/** The rule denies. */
export const DENY_FLAG = 1 << 3;
/** The rule allows retained publishes. */
export const RETAIN_FLAG = 1 << 4;
/** The rule's topic has placeholders: the matcher must confirm the index's candidate. */
export const TEMPLATE_FLAG = 1 << 5;
/** Bits the flags take; an index entry is `id << FLAG_BITS | flags`. */
export const FLAG_BITS = 6;

/** The flags of a rule. */
export function ruleFlags(rule: CompiledRule): number {
  return rule.qosMask | (rule.effect === "deny" ? DENY_FLAG : 0) |
    (rule.retain ? RETAIN_FLAG : 0) | (rule.hasTemplate ? TEMPLATE_FLAG : 0);
}

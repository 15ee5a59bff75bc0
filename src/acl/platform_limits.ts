/**
 * CloudSignal's platform limits beyond MQTT itself, and the notes that say how the local
 * broker of `cloudsignal dev` (aedes, MQTT 3.1.1) treats a request beyond the policy's
 * decision. Pure: the evaluator, the validator, `acl simulate` and the broker share them.
 */

import type { AclRequest } from "./types.ts";

/**
 * The most levels a topic name or filter may have. Deeper requests are denied with reason
 * `invalid_topic` (the broker's topic matcher, qlobber, stops at 100 levels).
 */
export const MAX_TOPIC_LEVELS = 100;

/** The longest client id an MQTT 3.1 client may send (MQTT 3.1, section 3.1). */
export const MQTT31_MAX_CLIENT_ID_LENGTH = 23;

/** Levels of a topic name or filter (`a//b` has three). */
export function topicLevelCount(topic: string): number {
  let levels = 1;
  for (let at = topic.indexOf("/"); at >= 0; at = topic.indexOf("/", at + 1)) levels++;
  return levels;
}

/** Why a request topic of `levels` levels is refused, or null within the limit. */
export function levelLimitError(levels: number): string | null {
  if (levels <= MAX_TOPIC_LEVELS) return null;
  return `topic has ${levels} levels; CloudSignal allows at most ${MAX_TOPIC_LEVELS}`;
}

/**
 * Why a rule's (valid) topic filter can never apply within the level limit, or null. A
 * trailing `#` also matches its parent, so `l1/…/l100/#` still matches 100-level topics.
 */
export function ruleLevelLimitError(filter: string): string | null {
  const levels = topicLevelCount(filter);
  const fewestMatched = filter === "#" || filter.endsWith("/#") ? levels - 1 : levels;
  if (fewestMatched <= MAX_TOPIC_LEVELS) return null;
  return `topic "${filter}" matches only topics of ${fewestMatched} levels or more, and ` +
    `CloudSignal allows at most ${MAX_TOPIC_LEVELS}, so this rule can never apply`;
}

/**
 * aedes's own `$SYS` control topics (`$SYS/<broker id>/new/clients` and the like; aedes
 * listens with `+` in place of the id, so any id counts, the empty one too).
 */
export const BROKER_CONTROL_TOPIC =
  /^\$SYS\/[^/]*\/(new\/clients|heartbeat|birth|disconnect\/clients)$/;

/** How the local broker treats a request beyond what the policy decides. */
export interface PlatformNote {
  /** Stable identifier. */
  code: "shared_subscription_refused" | "broker_control_topic" | "broker_sys_messages";
  message: string;
}

/** Notes on what `cloudsignal dev`'s broker does with `request`, whatever the policy decides. */
export function platformNotes(request: Pick<AclRequest, "action" | "topic">): PlatformNote[] {
  const topic = request.topic;
  if (topic.charCodeAt(0) !== 36) return [];
  if (request.action === "sub" && topic.startsWith("$share/")) {
    return [{
      code: "shared_subscription_refused",
      message: "the local broker of cloudsignal dev speaks MQTT 3.1.1 and refuses $share " +
        "subscriptions (SUBACK 0x80); CloudSignal's MQTT 5 broker decides them as the plain filter",
    }];
  }
  if (request.action === "pub" && BROKER_CONTROL_TOPIC.test(topic)) {
    return [{
      code: "broker_control_topic",
      message: `the local broker of cloudsignal dev drops publishes to "${topic}", one of its ` +
        "control topics, whatever the policy says",
    }];
  }
  if (request.action === "sub" && /^\$SYS(\/|$)/.test(topic)) {
    return [{
      code: "broker_sys_messages",
      message: "the local broker of cloudsignal dev delivers none of its own $SYS messages: " +
        "this subscription receives only what clients publish to matching $SYS topics",
    }];
  }
  return [];
}

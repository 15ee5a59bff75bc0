/**
 * MQTT topic names and filters (MQTT 3.1.1 and 5, section 4.7): validation, shared
 * subscriptions, and plain matching and containment built on the shared level matcher.
 */

import { compilePlainFilter } from "./template.ts";
import { matchLevels, type MatchState, newMatchState } from "./match.ts";
import { scanTopic, TopicView } from "./topic_view.ts";

/** The most bytes an MQTT topic may take in UTF-8. */
export const MAX_TOPIC_BYTES = 65_535;

/** Whether a topic is used as a PUBLISH topic name or a SUBSCRIBE topic filter. */
export type TopicKind = "name" | "filter";

/** Number of bytes `text` takes in UTF-8 (assumes well-formed UTF-16). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

// Wildcards or NUL anywhere: only then does a topic need the slow checks.
// deno-lint-ignore no-control-regex -- NUL is one of the characters we look for
const SPECIAL = /[+#\u0000]/;

/**
 * Checks a topic name or filter. Returns null when valid, otherwise a sentence that says
 * what is wrong and where (levels are counted from 1).
 */
export function topicError(topic: string, kind: TopicKind): string | null {
  if (topic.length === 0) return "topic is empty";
  if (!topic.isWellFormed()) {
    return "topic is not valid UTF-8 (it holds an unpaired surrogate)";
  }
  if (topic.length > MAX_TOPIC_BYTES / 3 && utf8Length(topic) > MAX_TOPIC_BYTES) {
    return `topic is ${utf8Length(topic)} bytes in UTF-8; MQTT allows at most 65,535`;
  }
  if (!SPECIAL.test(topic)) return null;
  const nul = topic.indexOf("\u0000");
  if (nul >= 0) return `topic contains a NUL character (U+0000) at character ${nul + 1}`;
  const levels = topic.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const plus = level.indexOf("+");
    const hash = level.indexOf("#");
    if (plus < 0 && hash < 0) continue;
    const wildcard = hash >= 0 ? "#" : "+";
    if (kind === "name") {
      return `a topic name cannot contain '${wildcard}' (level ${i + 1} is "${level}"); ` +
        "wildcards are only for subscribe filters";
    }
    if (level !== "+" && level !== "#") {
      return `'${wildcard}' must occupy a whole level (level ${i + 1} is "${level}")`;
    }
    if (level === "#" && i !== levels.length - 1) {
      return `'#' must be the last level (it is level ${i + 1} of ${levels.length})`;
    }
  }
  return null;
}

/** A subscription filter with its `$share/<group>/` prefix taken off. */
export interface SharedFilter {
  /** The share group, or null for an ordinary subscription. */
  group: string | null;
  /** The filter the subscription matches topics with. */
  filter: string;
}

/**
 * Splits `$share/<group>/<filter>` (MQTT 5, section 4.8.2). Returns an error sentence when the
 * shared form is malformed, or the filter unchanged when it is not shared.
 */
export function parseSharedSubscription(filter: string): SharedFilter | { error: string } {
  if (!filter.startsWith("$share/")) return { group: null, filter };
  const rest = filter.slice("$share/".length);
  const slash = rest.indexOf("/");
  if (slash < 0) {
    return { error: "a shared subscription needs the form $share/<group>/<filter>" };
  }
  const group = rest.slice(0, slash);
  if (group.length === 0) return { error: "the shared subscription group is empty" };
  if (/[+#]/.test(group)) {
    return { error: `the shared subscription group "${group}" cannot contain '+' or '#'` };
  }
  return { group, filter: rest.slice(slash + 1) };
}

let plainState: MatchState | undefined;
const plainView = new TopicView();

function plainMatch(filter: string, topic: string, kind: TopicKind): boolean {
  plainState ??= newMatchState();
  if (!scanTopic(plainView, topic, kind)) {
    throw new RangeError(`invalid topic ${kind}: ${topicError(topic, kind)}`);
  }
  return matchLevels(compilePlainFilter(filter), plainView, plainState) === 0;
}

/** Whether a valid topic filter matches a valid topic name (including the `$` rule). */
export function filterMatchesTopic(filter: string, topicName: string): boolean {
  return plainMatch(filter, topicName, "name");
}

/**
 * Whether every topic `inner` can match, `outer` matches too (both valid filters).
 * `agents/#` contains `agents/+/card`; the reverse does not hold.
 */
export function filterContains(outer: string, inner: string): boolean {
  return plainMatch(outer, inner, "filter");
}

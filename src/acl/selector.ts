/**
 * User selectors (`user` of a rule, `identity` of a publisher): exact (`orchestrator`),
 * prefix (`agent-*`) or everyone (`*`).
 */

/** Matches every username. */
export const ANY = 0;
/** Matches one username. */
export const EXACT = 1;
/** Matches usernames starting with a prefix. */
export const PREFIX = 2;

/** A parsed selector. */
export interface Selector {
  kind: typeof ANY | typeof EXACT | typeof PREFIX;
  /** The username (EXACT) or prefix (PREFIX); empty for ANY. */
  value: string;
  /** As written. */
  text: string;
}

/** Parses a selector, or returns an error sentence. */
export function parseSelector(text: string): Selector | { error: string } {
  if (text.length === 0) return { error: 'the selector is empty (use "*" for everyone)' };
  if (text === "*") return { kind: ANY, value: "", text };
  const star = text.indexOf("*");
  if (star < 0) return { kind: EXACT, value: text, text };
  if (star !== text.length - 1) {
    return {
      error: `"${text}": "*" may only end a selector (exact "name", prefix "name-*", or "*")`,
    };
  }
  return { kind: PREFIX, value: text.slice(0, -1), text };
}

/** Whether `username` is selected. */
export function selectorMatches(selector: Selector, username: string): boolean {
  if (selector.kind === ANY) return true;
  if (selector.kind === EXACT) return username === selector.value;
  return username.startsWith(selector.value);
}

/** Whether a selector as written (exact, `prefix-*` or `*`) selects `username`. */
export function selectorSelects(text: string, username: string): boolean {
  const selector = parseSelector(text);
  return !("error" in selector) && selectorMatches(selector, username);
}

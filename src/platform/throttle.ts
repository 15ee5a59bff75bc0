/** Throttling of repeated failed sign-ins (the login page and MQTT CONNECT). */

/** Failed sign-ins for one name before it is throttled. */
export const MAX_LOGIN_FAILURES = 5;
/** First throttle period in seconds; it doubles with each further failure, up to 15 minutes. */
export const THROTTLE_SECONDS = 30;

/** Names whose failures are remembered at most (beyond it the oldest are forgotten). */
const THROTTLE_ENTRIES = 10_000;

/**
 * Failed sign-ins per name (an email, an MQTT username). An attempt counts as a failure
 * from the moment it starts (the password check takes tens of milliseconds), so parallel
 * guesses meet the limit too; a success clears the count. After MAX_LOGIN_FAILURES the name
 * waits THROTTLE_SECONDS, doubling with each further failure, up to 15 minutes.
 */
export class FailureThrottle {
  readonly #failures = new Map<string, { count: number; until: number }>();

  /** Starts an attempt: 0 to go ahead (it is counted), else the seconds to wait first. */
  attempt(name: string): number {
    const key = name.toLowerCase();
    const entry = this.#failures.get(key) ?? { count: 0, until: 0 };
    const wait = Math.ceil((entry.until - Date.now()) / 1000);
    if (wait > 0) return wait;
    entry.count++;
    if (entry.count >= MAX_LOGIN_FAILURES) {
      const seconds = Math.min(THROTTLE_SECONDS * 2 ** (entry.count - MAX_LOGIN_FAILURES), 15 * 60);
      entry.until = Date.now() + seconds * 1000;
    }
    this.#failures.delete(key);
    this.#failures.set(key, entry);
    if (this.#failures.size > THROTTLE_ENTRIES) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
    return 0;
  }

  /** Clears the failures of `name` after a successful attempt. */
  succeed(name: string): void {
    this.#failures.delete(name.toLowerCase());
  }
}

/** Throttling of repeated failed sign-ins (the login page and MQTT CONNECT). */

/** Failed sign-ins for one name before it is throttled. */
export const MAX_LOGIN_FAILURES = 5;
/** First throttle period in seconds; it doubles with each further failure, up to 15 minutes. */
export const THROTTLE_SECONDS = 30;
/** Attempts for one name that may wait for their turn; more at once are refused. */
export const MAX_WAITING_ATTEMPTS = 100;

/** Names whose failures are remembered at most (beyond it the oldest are forgotten). */
const THROTTLE_ENTRIES = 10_000;

/** The answer to an attempt: go ahead, or wait `seconds` (throttled, or too many at once). */
export type Admission = { admitted: true } | { admitted: false; seconds: number };

interface Entry {
  failures: number;
  /** When the throttle period ends (ms since the epoch). */
  until: number;
  /** Attempts admitted and not yet finished. */
  running: number;
  waiting: (() => void)[];
}

/**
 * Failed sign-ins per name (an email, an MQTT username). Only a finished, failed attempt
 * counts; a success clears the count. After MAX_LOGIN_FAILURES failures the name waits
 * THROTTLE_SECONDS, doubling with each further failure, up to 15 minutes.
 *
 * So that parallel guesses cannot outrun the count, at most `MAX_LOGIN_FAILURES - failures`
 * attempts of a name run at once; the others wait for their turn (they are not refused, so
 * simultaneous sign-ins with the right password all go through).
 */
export class FailureThrottle {
  readonly #entries = new Map<string, Entry>();

  /** Waits for a turn. When admitted, finish with `failed`, `succeeded` or `abandoned`. */
  async admit(name: string): Promise<Admission> {
    const key = name.toLowerCase();
    while (true) {
      const entry = this.#entry(key);
      const wait = Math.ceil((entry.until - Date.now()) / 1000);
      if (wait > 0) {
        this.#tidy(key, entry);
        return { admitted: false, seconds: wait };
      }
      if (entry.running < Math.max(1, MAX_LOGIN_FAILURES - entry.failures)) {
        entry.running++;
        return { admitted: true };
      }
      if (entry.waiting.length >= MAX_WAITING_ATTEMPTS) return { admitted: false, seconds: 1 };
      await new Promise<void>((resolve) => entry.waiting.push(resolve));
    }
  }

  /** Ends an admitted attempt that failed: it counts. */
  failed(name: string): void {
    const key = name.toLowerCase();
    const entry = this.#entry(key);
    entry.failures++;
    if (entry.failures >= MAX_LOGIN_FAILURES) {
      const seconds = Math.min(
        THROTTLE_SECONDS * 2 ** (entry.failures - MAX_LOGIN_FAILURES),
        15 * 60,
      );
      entry.until = Date.now() + seconds * 1000;
    }
    this.#finish(key, entry);
  }

  /** Ends an admitted attempt that succeeded: the failures are forgiven. */
  succeeded(name: string): void {
    const key = name.toLowerCase();
    const entry = this.#entry(key);
    entry.failures = 0;
    entry.until = 0;
    this.#finish(key, entry);
  }

  /** Ends an admitted attempt that could not be decided (a server error): it does not count. */
  abandoned(name: string): void {
    const key = name.toLowerCase();
    this.#finish(key, this.#entry(key));
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { failures: 0, until: 0, running: 0, waiting: [] };
      this.#entries.set(key, entry);
      if (this.#entries.size > THROTTLE_ENTRIES) this.#evictOldest();
    }
    return entry;
  }

  #finish(key: string, entry: Entry): void {
    entry.running = Math.max(0, entry.running - 1);
    // Everyone waiting looks again: the count or the throttle may have changed.
    for (const wake of entry.waiting.splice(0)) wake();
    // Most recently used last, so that eviction forgets the oldest.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#tidy(key, entry);
  }

  #tidy(key: string, entry: Entry): void {
    const idle = entry.running === 0 && entry.waiting.length === 0;
    if (idle && entry.failures === 0) this.#entries.delete(key);
  }

  #evictOldest(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.running === 0 && entry.waiting.length === 0) {
        this.#entries.delete(key);
        return;
      }
    }
  }
}

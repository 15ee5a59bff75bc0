/**
 * Compiled policies kept by the SHA-256 of their text, for a program that decides many
 * requests against the same policy (the MCP server): a policy is parsed, checked and compiled
 * once, and each later call only hashes its text. For a file, the hash of the last read is
 * reused while the file's identity, size and times are unchanged and were already settled
 * when it was read (a file modified within the same clock tick as a read is read again).
 */

import {
  INLINE_POLICY_NAME,
  type LoadedPolicy,
  loadValidPolicy,
  type PolicyInput,
  usablePolicy,
} from "./source.ts";
import { MAX_POLICY_FILE_BYTES, readPolicyBytes } from "./policy_file.ts";
import { validatePolicyText } from "../acl/validate.ts";

/** A file's modification older than this at the time of a read cannot hide a later change. */
const SETTLED_MS = 2_000;

/** Options of a `PolicyCache`. */
export interface PolicyCacheOptions {
  /** Compiled policies kept at most (the least recently used goes first). Default 8. */
  maxEntries?: number;
}

/** What the cache did for the last `load`: `hit` reused a compiled policy. */
export type CacheOutcome = "hit" | "miss" | "uncached";

interface FileMemo {
  stamp: string;
  hash: string;
  settled: boolean;
}

function stampOf(info: Deno.FileInfo): string {
  return [info.dev, info.ino, info.size, info.mtime?.getTime(), info.ctime?.getTime()].join(":");
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function decoded(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Valid compiled policies by content hash; invalid ones are never kept. */
export class PolicyCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Omit<LoadedPolicy, "name">>();
  readonly #files = new Map<string, FileMemo>();
  /** What the last `load` did. */
  lastOutcome: CacheOutcome = "uncached";

  constructor(options: PolicyCacheOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 8);
  }

  /** Compiled policies held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The policy of `input`, compiled: from the cache when its text was seen before.
   * Throws as `loadValidPolicy` does (`PolicyInvalidError`, unreadable or oversized input).
   */
  async load(input: PolicyInput): Promise<LoadedPolicy> {
    if ("text" in input) {
      const bytes = new TextEncoder().encode(input.text);
      // Over the limit: the usual path refuses it with the limit.
      if (bytes.length > MAX_POLICY_FILE_BYTES) return await this.#uncached(input);
      const name = input.name ?? INLINE_POLICY_NAME;
      return await this.#compiled(await sha256(bytes), name, () => input.text, input);
    }
    const path = input.path;
    const info = path === "-" ? null : await Deno.stat(path).catch(() => null);
    // Standard input, a missing file, a directory: the usual path reads or explains it.
    if (!info?.isFile) return await this.#uncached(input);
    const stamp = stampOf(info);
    const memo = this.#files.get(path);
    if (memo?.settled && memo.stamp === stamp) {
      const known = this.#take(memo.hash);
      if (known) return { ...known, name: path };
    }
    const readAt = Date.now();
    const { bytes } = await readPolicyBytes(path);
    const hash = await sha256(bytes as Uint8Array<ArrayBuffer>);
    const after = await Deno.stat(path).catch(() => null);
    this.#files.delete(path);
    // A file that changed while it was read is hashed again next time.
    if (after !== null && stampOf(after) === stamp) {
      const settled = readAt - (info.mtime?.getTime() ?? readAt) >= SETTLED_MS;
      this.#files.set(path, { stamp, hash, settled });
      if (this.#files.size > this.#maxEntries * 8) {
        this.#files.delete(this.#files.keys().next().value!);
      }
    }
    return await this.#compiled(hash, path, () => decoded(bytes), input);
  }

  #take(hash: string): Omit<LoadedPolicy, "name"> | undefined {
    const known = this.#entries.get(hash);
    if (known) {
      this.#entries.delete(hash);
      this.#entries.set(hash, known);
      this.lastOutcome = "hit";
    }
    return known;
  }

  async #compiled(
    hash: string,
    name: string,
    text: () => string | null,
    input: PolicyInput,
  ): Promise<LoadedPolicy> {
    const known = this.#take(hash);
    if (known) return { ...known, name };
    const source = text();
    // Not UTF-8: the usual path reports where, as a finding.
    if (source === null) return await this.#uncached(input);
    const loaded = usablePolicy({ name, result: validatePolicyText(source), text: source });
    const { name: _name, ...entry } = loaded;
    this.#entries.set(hash, entry);
    if (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.lastOutcome = "miss";
    return loaded;
  }

  async #uncached(input: PolicyInput): Promise<LoadedPolicy> {
    this.lastOutcome = "uncached";
    return await loadValidPolicy(input);
  }
}

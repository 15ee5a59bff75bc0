/**
 * The base revision a policy file carries: `acl get` writes the live revision it fetched as
 * a `"$revision"` member, and `acl update` sends it as `If-Match`. The member travels with
 * the file (redirects, pipes through jq, git), so the base belongs to the file being pushed
 * and no read of the policy ever moves it. The API never sees it: it is taken off before a
 * policy is sent or compared.
 */

import { parseJsonWithPositions } from "../acl/json_positions.ts";
import type { Policy } from "../acl/types.ts";
import { writeFileAtomic } from "../core/atomic_write.ts";

/** The member that records a file's base revision. */
export const REVISION_MEMBER = "$revision";

/**
 * The policy with `"$revision": revision` as its first member (after `$schema`, which
 * editors expect first); any `$revision` the stored policy had is replaced.
 */
export function withRevision(policy: Policy, revision: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const { $schema, ...rest } = policy as unknown as Record<string, unknown>;
  if ($schema !== undefined) result.$schema = $schema;
  result[REVISION_MEMBER] = revision;
  for (const [key, value] of Object.entries(rest)) {
    if (key !== REVISION_MEMBER) result[key] = value;
  }
  return result;
}

/** A policy without its `$revision`, and the revision it named (null when absent). */
export function splitRevision(policy: Policy): { policy: Policy; revision: number | null } {
  const record = policy as unknown as Record<string, unknown>;
  if (!(REVISION_MEMBER in record)) return { policy, revision: null };
  const { [REVISION_MEMBER]: revision, ...rest } = record;
  return {
    policy: rest as unknown as Policy,
    revision: typeof revision === "number" && Number.isSafeInteger(revision) ? revision : null,
  };
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * `text` (a policy object's JSON) with its `$revision` set to `revision`, every other byte
 * kept: the number is replaced in place, or the member is inserted before the first one in
 * the file's own style. Null when the text is not a JSON object.
 */
export function setRevisionInText(text: string, revision: number): string | null {
  let parsed;
  try {
    parsed = parseJsonWithPositions(text);
  } catch {
    return null;
  }
  const root = parsed.positions;
  if (!root.members) return null;
  const existing = root.members.get(REVISION_MEMBER);
  if (existing) {
    NUMBER.lastIndex = existing.at.offset;
    const match = NUMBER.exec(text);
    if (!match) return null;
    const end = existing.at.offset + match[0].length;
    return `${text.slice(0, existing.at.offset)}${revision}${text.slice(end)}`;
  }
  const first = [...root.members.values()][0];
  if (!first?.keyAt) {
    const open = root.at.offset;
    return `${text.slice(0, open + 1)}"${REVISION_MEMBER}": ${revision}${text.slice(open + 1)}`;
  }
  const keyStart = first.keyAt.offset;
  const gap = text.slice(root.at.offset + 1, keyStart);
  const member = gap === ""
    ? `"${REVISION_MEMBER}":${revision},`
    : `"${REVISION_MEMBER}": ${revision},${gap}`;
  return `${text.slice(0, keyStart)}${member}${text.slice(keyStart)}`;
}

/** What became of recording a new revision in the pushed file. */
export type FileRecord =
  /** The file now names the new revision. */
  | "recorded"
  /** The file changed after it was read: it was left alone. */
  | "file_changed"
  /** It could not be written (permissions, a vanished file…). */
  | "write_failed";

/**
 * Sets `$revision` of the file at `path` to `revision`, only if the file still holds
 * `expected` (the text that was pushed), so an edit made in the meantime is never lost.
 * The file keeps its mode and stays where a symbolic link points.
 */
export async function recordRevisionInFile(
  path: string,
  expected: string,
  revision: number,
): Promise<FileRecord> {
  try {
    const target = await Deno.realPath(path);
    if (await Deno.readTextFile(target) !== expected) return "file_changed";
    const next = setRevisionInText(expected, revision);
    if (next === null) return "write_failed";
    const info = await Deno.stat(target);
    await writeFileAtomic(target, next, { mode: (info.mode ?? 0o644) & 0o7777 });
    return "recorded";
  } catch {
    return "write_failed";
  }
}

/** Where older versions of this CLI kept one base revision per API and organization. */
const LEGACY_RECORD = "policy-revisions.json";

/**
 * Removes the record of older versions (one base per API and organization, which any read
 * moved); bases now live in the files. Best effort.
 */
export async function removeLegacyRevisionRecord(home: string): Promise<void> {
  await Deno.remove(`${home}/${LEGACY_RECORD}`).catch(() => {});
}

/**
 * Which policy revision `acl get` last fetched, per API and organization, so that a later
 * `acl update` sends it as `If-Match` and refuses to overwrite someone else's change. Kept in
 * `<CLOUDSIGNAL_HOME>/policy-revisions.json`; it holds no secret.
 */

import { writeFileAtomic } from "../core/atomic_write.ts";

const FILE = "policy-revisions.json";
const VERSION = 1;

/** One fetched revision. */
export interface FetchedRevision {
  revision: number;
  fetched_at: string;
}

interface RevisionsFile {
  version: number;
  policies: Record<string, FetchedRevision>;
}

function keyOf(apiUrl: string, organizationId: string): string {
  return `${apiUrl} ${organizationId}`;
}

async function read(home: string): Promise<RevisionsFile> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(`${home}/${FILE}`)) as RevisionsFile;
    if (parsed?.version === VERSION && typeof parsed.policies === "object") return parsed;
  } catch {
    // Missing or unreadable: nothing was recorded, and the next fetch rewrites it.
  }
  return { version: VERSION, policies: {} };
}

/** The revision last fetched for this API and organization, or null. */
export async function fetchedRevision(
  home: string,
  apiUrl: string,
  organizationId: string,
): Promise<FetchedRevision | null> {
  const file = await read(home);
  const entry = file.policies[keyOf(apiUrl, organizationId)];
  return entry && Number.isInteger(entry.revision) ? entry : null;
}

/** Records that `revision` was fetched (or written) for this API and organization. */
export async function recordFetchedRevision(
  home: string,
  apiUrl: string,
  organizationId: string,
  revision: number,
): Promise<void> {
  const file = await read(home);
  file.policies[keyOf(apiUrl, organizationId)] = {
    revision,
    fetched_at: new Date().toISOString(),
  };
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  await writeFileAtomic(`${home}/${FILE}`, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}

/** Reading the organization's policy: the live one or a revision, and the list of revisions. */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { UsageError } from "../core/errors.ts";
import { ApiClient } from "../api/client.ts";
import type { Policy } from "../acl/types.ts";
import type { RevisionList } from "../api/openapi_types.ts";
import { removeLegacyRevisionRecord } from "./file_revision.ts";

/** The organization a policy belongs to. */
export interface PolicyOrganization {
  id: string;
  short_id: string;
  name: string;
}

/** A policy fetched from the API. */
export interface FetchedPolicy {
  policy: Policy;
  /** The revision `policy` is. */
  revision: number;
  /** False when an earlier revision was asked for. */
  live: boolean;
  /**
   * The live revision when it was fetched: the base a file of this policy records in
   * `$revision` (for an earlier revision too, so pushing it back is still guarded).
   */
  base_revision: number;
  organization: PolicyOrganization;
  /** When it was fetched (ISO 8601). */
  fetched_at: string;
}

/** Checks a revision number given by a person or an agent; revisions start at 1. */
export function checkRevision(revision: number | undefined, argument = "revision"): void {
  if (revision !== undefined && (!Number.isSafeInteger(revision) || revision < 1)) {
    throw new UsageError(
      `${argument} must be a revision number: 1 or more (got ${revision})`,
      undefined,
      argument,
    );
  }
}

/** The live policy, or `revision` of it with the live revision beside it. */
export async function getPolicy(
  context: OperationContext,
  input: { revision?: number } = {},
): Promise<FetchedPolicy> {
  checkRevision(input.revision);
  const client = new ApiClient(context);
  const live = input.revision === undefined;
  const [fetched, organization, current] = await step(
    context,
    "Fetching the policy",
    () =>
      Promise.all([
        client.policy(input.revision),
        client.organization(),
        live ? null : client.revisions({ limit: 1 }).then((list) => list.current_revision),
      ]),
  );
  await removeLegacyRevisionRecord(context.home);
  return {
    policy: fetched.policy,
    revision: fetched.revision,
    live,
    base_revision: current ?? fetched.revision,
    organization,
    fetched_at: new Date().toISOString(),
  };
}

/** Which revisions to list: at most `limit`, older than `before`. */
export interface RevisionPage {
  limit?: number;
  before?: number;
}

/** The policy's revisions, newest first; `next_before` is set when older ones remain. */
export async function listRevisions(
  context: OperationContext,
  page: RevisionPage = {},
): Promise<RevisionList> {
  checkRevision(page.before, "before");
  const { limit } = page;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)) {
    throw new UsageError(`limit must be from 1 to 1000 (got ${limit})`, undefined, "limit");
  }
  const client = new ApiClient(context);
  return await step(context, "Fetching the revisions", () => client.revisions(page));
}

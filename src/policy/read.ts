/** Reading the organization's policy: the live one or a revision, and the list of revisions. */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { UsageError } from "../core/errors.ts";
import { ApiClient } from "../api/client.ts";
import type { Policy } from "../acl/types.ts";
import type { RevisionList } from "../api/openapi_types.ts";

/** The organization a policy belongs to. */
export interface PolicyOrganization {
  id: string;
  short_id: string;
  name: string;
}

/** A policy fetched from the API. */
export interface FetchedPolicy {
  policy: Policy;
  revision: number;
  /** False when an earlier revision was asked for. */
  live: boolean;
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

/** The live policy, or `revision` of it. */
export async function getPolicy(
  context: OperationContext,
  input: { revision?: number } = {},
): Promise<FetchedPolicy> {
  checkRevision(input.revision);
  const client = new ApiClient(context);
  const [fetched, organization] = await step(
    context,
    "Fetching the policy",
    () => Promise.all([client.policy(input.revision), client.organization()]),
  );
  return {
    policy: fetched.policy,
    revision: fetched.revision,
    live: input.revision === undefined,
    organization,
    fetched_at: new Date().toISOString(),
  };
}

/** The policy's revisions, newest first. */
export function listRevisions(context: OperationContext): Promise<RevisionList> {
  const client = new ApiClient(context);
  return step(context, "Fetching the revisions", () => client.revisions());
}

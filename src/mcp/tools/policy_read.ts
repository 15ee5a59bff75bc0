/** The tools that read the organization's policy: `acl_get_policy`, `acl_list_revisions`. */

import * as z from "../zod.ts";
import { jsonObject, organization } from "../schemas.ts";
import { API_READ, defineTool } from "../tool.ts";

/** A revision number argument. */
export const revisionNumber = z.number().int().positive();

/** `acl_get_policy`: the live policy or a revision, with its revision number. */
export const getPolicyTool = defineTool({
  name: "acl_get_policy",
  title: "Get the ACL policy",
  description:
    "Returns the organization's ACL policy (the JSON document the MQTT broker enforces) " +
    "and its revision number: the live one, or an earlier revision. Use it before " +
    "changing the policy: edit this document and pass its revision as base_revision to " +
    "acl_update_policy, so a change someone made meanwhile is never overwritten.",
  input: z.strictObject({
    revision: revisionNumber.optional().describe("an earlier revision instead of the live one"),
  }),
  output: z.object({
    policy: jsonObject.describe("the policy document"),
    revision: z.number().int(),
    live: z.boolean().describe("false when an earlier revision was asked for"),
    base_revision: z.number().int().describe(
      "the live revision when it was fetched: the base_revision to give acl_update_policy",
    ),
    organization,
    fetched_at: z.string(),
  }),
  annotations: API_READ,
  writes: false,
  async run({ context }, args) {
    const { getPolicy } = await import("../../policy/read.ts");
    const fetched = await getPolicy(context, { revision: args.revision });
    const rules = (fetched.policy.global?.length ?? 0) + (fetched.policy.rules?.length ?? 0);
    return {
      structured: { ...fetched, policy: fetched.policy as unknown as Record<string, unknown> },
      summary:
        `${fetched.live ? "The live policy" : "The policy"} of ${fetched.organization.name}` +
        `, revision ${fetched.revision} (${rules} rules).`,
    };
  },
});

/** `acl_list_revisions`: the policy's revisions, newest first. */
export const listRevisionsTool = defineTool({
  name: "acl_list_revisions",
  title: "List policy revisions",
  description:
    "Lists the revisions of the organization's ACL policy, newest first, with who made " +
    "each and when. Every revision is kept: read one with acl_get_policy (revision) or " +
    "compare a policy with it in acl_diff.",
  input: z.strictObject({
    limit: z.number().int().min(1).max(1000).optional().describe("at most this many (default 100)"),
    before: revisionNumber.optional().describe("only revisions older than this one (next page)"),
  }),
  output: z.object({
    current_revision: z.number().int(),
    revisions: z.array(z.object({
      revision: z.number().int(),
      created_at: z.string(),
      created_by: z.object({ user_id: z.string(), email: z.string() }).nullable(),
    })),
    next_before: z.number().int().nullable().optional(),
  }),
  annotations: API_READ,
  writes: false,
  async run({ context }, args) {
    const { listRevisions } = await import("../../policy/read.ts");
    const list = await listRevisions(context, { limit: args.limit, before: args.before });
    const lines = list.revisions.map((revision) =>
      `  ${revision.revision}  ${revision.created_at}  ${
        revision.created_by?.email ?? "(initial policy)"
      }${revision.revision === list.current_revision ? "  (live)" : ""}`
    );
    return {
      structured: list,
      summary: `Revisions, newest first (live: ${list.current_revision}):\n${lines.join("\n")}`,
    };
  },
});

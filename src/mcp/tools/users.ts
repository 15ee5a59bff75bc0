/** The user tools: `user_list`, `user_claims_show`, and the writes `user_claims_set|unset`. */

import * as z from "../zod.ts";
import { user, userClaims } from "../schemas.ts";
import { API_READ, defineTool } from "../tool.ts";

const userArgument = z.string().min(1).describe("the user's id or username");
const claimKey = z.string().min(1).describe("the claim's name, e.g. agent_id");

function claimsText(claims: { username: string; claims: Record<string, string> }): string {
  const entries = Object.entries(claims.claims);
  return entries.length === 0
    ? `${claims.username} has no claims.`
    : `Claims of ${claims.username}:\n` +
      entries.map(([key, value]) => `  ${key} = ${JSON.stringify(value)}`).join("\n");
}

/** Changes a user's claims: replaces or removes values {$self} rules bind topics to. */
const CLAIM_WRITE = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: true,
} as const;

/** `user_list`: the organization's users. */
export const listUsersTool = defineTool({
  name: "user_list",
  title: "List users",
  description:
    "Lists the users of the organization with their ids, MQTT usernames and emails. Use " +
    "it to find the user whose claims to read or change, or whose identity to simulate " +
    "with (acl_simulate user).",
  input: z.strictObject({}),
  output: z.object({ users: z.array(user) }),
  annotations: API_READ,
  writes: false,
  async run({ context }) {
    const { listUsers } = await import("../../claims/user_claims.ts");
    const users = await listUsers(context);
    return {
      structured: { users },
      summary: `${users.length} users:\n` +
        users.map((entry) => `  ${entry.username} (${entry.email}, id ${entry.id})`).join("\n"),
    };
  },
});

/** `user_claims_show`: a user's claims. */
export const showClaimsTool = defineTool({
  name: "user_claims_show",
  title: "Show a user's claims",
  description:
    "Shows a user's identity claims: the values that {$self} and {claim} rules put into " +
    "topics (e.g. agent_id, channels). Use it to understand why a user's client is allowed " +
    "or denied a topic.",
  input: z.strictObject({ user: userArgument }),
  output: userClaims,
  annotations: API_READ,
  writes: false,
  async run({ context }, args) {
    const { showClaims } = await import("../../claims/user_claims.ts");
    const claims = await showClaims(context, { user: args.user });
    return { structured: claims, summary: claimsText(claims) };
  },
});

/** `user_claims_set`: sets one claim. */
export const setClaimTool = defineTool({
  name: "user_claims_set",
  title: "Set a user's claim",
  description:
    "Sets (or replaces) one identity claim of a user. It applies to the next PUBLISH or " +
    "SUBSCRIBE of the user's connected clients. A value with / + # or NUL is refused when " +
    "a rule of the live policy puts this claim into a topic (it could widen the topic). " +
    "Returns all of the user's claims after the change.",
  input: z.strictObject({
    user: userArgument,
    key: claimKey,
    value: z.string().describe("the claim's value"),
  }),
  output: userClaims,
  annotations: CLAIM_WRITE,
  writes: true,
  async run({ context }, args) {
    const { setClaim } = await import("../../claims/user_claims.ts");
    const claims = await setClaim(context, args);
    return {
      structured: claims,
      summary: `Set ${args.key} of ${claims.username}. ${claimsText(claims)}`,
    };
  },
});

/** `user_claims_unset`: removes one claim. */
export const unsetClaimTool = defineTool({
  name: "user_claims_unset",
  title: "Remove a user's claim",
  description: "Removes one identity claim of a user; rules that need it stop matching for the " +
    "user's clients from their next PUBLISH or SUBSCRIBE. Returns the remaining claims.",
  input: z.strictObject({ user: userArgument, key: claimKey }),
  output: userClaims,
  annotations: CLAIM_WRITE,
  writes: true,
  async run({ context }, args) {
    const { unsetClaim } = await import("../../claims/user_claims.ts");
    const claims = await unsetClaim(context, args);
    return {
      structured: claims,
      summary: `Removed ${args.key} of ${claims.username}. ${claimsText(claims)}`,
    };
  },
});

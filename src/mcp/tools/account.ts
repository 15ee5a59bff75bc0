/** The `whoami` tool. */

import * as z from "../zod.ts";
import { organization } from "../schemas.ts";
import { API_READ, defineTool } from "../tool.ts";

/** `whoami`: who the credentials belong to. */
export const whoamiTool = defineTool({
  name: "whoami",
  title: "Who am I",
  description:
    "Shows which CloudSignal account and organization this server acts for (the login of " +
    "`cloudsignal login`, or CLOUDSIGNAL_TOKEN), the API URL and when the token expires. " +
    "Use it first when a tool says you are not logged in, or to know which organization " +
    "the other tools read and change.",
  input: z.strictObject({}),
  output: z.object({
    email: z.string(),
    user_id: z.string(),
    organization,
    api_url: z.string(),
    token_expires_at: z.string().nullable(),
    source: z.enum(["file", "env"]).describe("file: a stored login; env: CLOUDSIGNAL_TOKEN"),
  }),
  annotations: API_READ,
  writes: false,
  async run({ context }) {
    const { whoami } = await import("../../auth/account.ts");
    const me = await whoami(context);
    const structured = {
      email: me.email,
      user_id: me.user_id,
      organization: me.organization,
      api_url: me.api_url,
      token_expires_at: me.token_expires_at,
      source: me.source,
    };
    return {
      structured,
      summary: `${me.email}, organization ${me.organization.name} (${me.organization.id}) ` +
        `at ${me.api_url}`,
    };
  },
});

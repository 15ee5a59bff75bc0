/** The `acl_presets` tool: the starter policies of `acl init`. */

import * as z from "../zod.ts";
import { PRESET_NAMES } from "../../policy/presets.ts";
import { jsonObject } from "../schemas.ts";
import { defineTool, LOCAL_READ } from "../tool.ts";

/** `acl_presets`: lists the presets, or gives one. */
export const presetsTool = defineTool({
  name: "acl_presets",
  title: "Starter policies",
  description: "Lists the five starter ACL policies of the CloudSignal dashboard (permit-all, " +
    "notifications, agent-pipelines, chat-channels, blank) with what each is for; with " +
    "`name`, also returns that policy's document. Use it to start a new policy from a " +
    "known-good pattern, then adapt it and check it with acl_validate and acl_test.",
  input: z.strictObject({
    name: z.enum(PRESET_NAMES).optional().describe("return this preset's document"),
  }),
  output: z.object({
    presets: z.array(z.object({
      name: z.enum(PRESET_NAMES),
      description: z.string(),
      rules: z.number().int().describe("rules and global rules"),
      tests: z.number().int(),
    })),
    policy: jsonObject.nullable().describe("the named preset's document, when name is given"),
  }),
  annotations: LOCAL_READ,
  writes: false,
  async run(_call, args) {
    const { preset } = await import("../../policy/presets.ts");
    const presets = PRESET_NAMES.map((name) => {
      const policy = preset(name);
      return {
        name,
        description: policy.description ?? "",
        rules: (policy.global?.length ?? 0) + (policy.rules?.length ?? 0),
        tests: policy.tests?.length ?? 0,
      };
    });
    const chosen = args.name === undefined ? null : preset(args.name);
    return {
      structured: {
        presets,
        policy: chosen as unknown as Record<string, unknown> | null,
      },
      summary: chosen
        ? `The ${args.name} preset: ${chosen.description ?? ""}`
        : presets.map((entry) => `${entry.name}: ${entry.description}`).join("\n"),
    };
  },
});

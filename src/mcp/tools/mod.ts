/** Every tool of the MCP server, in the order `tools/list` shows them. */

import type { AnyTool } from "../tool.ts";
import { whoamiTool } from "./account.ts";
import { getPolicyTool, listRevisionsTool } from "./policy_read.ts";
import { diffTool, simulateTool, testTool, validateTool } from "./policy_check.ts";
import { presetsTool } from "./presets.ts";
import { listUsersTool, setClaimTool, showClaimsTool, unsetClaimTool } from "./users.ts";
import { updatePolicyTool } from "./policy_update.ts";

/** All tools; those with `writes` are served only with --allow-writes. */
export const TOOLS: AnyTool[] = [
  whoamiTool,
  getPolicyTool,
  listRevisionsTool,
  validateTool,
  simulateTool,
  testTool,
  diffTool,
  presetsTool,
  listUsersTool,
  showClaimsTool,
  updatePolicyTool,
  setClaimTool,
  unsetClaimTool,
];

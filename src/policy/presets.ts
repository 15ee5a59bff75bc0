/** The five starter policies of `acl init`, named as in the dashboard editor. */

import type { Policy } from "../acl/types.ts";
import permitAll from "../../examples/presets/permit-all.json" with { type: "json" };
import notifications from "../../examples/presets/notifications.json" with { type: "json" };
import agentPipelines from "../../examples/presets/agent-pipelines.json" with { type: "json" };
import chatChannels from "../../examples/presets/chat-channels.json" with { type: "json" };
import blank from "../../examples/presets/blank.json" with { type: "json" };

/** Preset names, as `--preset` takes them. */
export const PRESET_NAMES = [
  "permit-all",
  "notifications",
  "agent-pipelines",
  "chat-channels",
  "blank",
] as const;

/** A preset name. */
export type PresetName = typeof PRESET_NAMES[number];

const PRESETS: Record<PresetName, unknown> = {
  "permit-all": permitAll,
  notifications,
  "agent-pipelines": agentPipelines,
  "chat-channels": chatChannels,
  blank,
};

/** A fresh copy of a preset. */
export function preset(name: PresetName): Policy {
  return structuredClone(PRESETS[name]) as Policy;
}

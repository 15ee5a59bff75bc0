/** `acl init`: writes a starter policy from a preset, to a file or stdout. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { writePreset } from "../../policy/init.ts";
import { formatPolicyJson } from "../../policy/json_format.ts";
import { preset, type PresetName } from "../../policy/presets.ts";
import { countsSummary } from "../../policy/report.ts";

/** Flags of `acl init`. */
export interface InitFlags {
  preset: PresetName;
  output: string;
  force?: boolean;
}

/** Writes the preset to `flags.output` (`-` for stdout). */
export async function runInit(context: CliContext, flags: InitFlags): Promise<number> {
  const { io } = context;
  if (flags.output === "-") {
    io.out(formatPolicyJson(preset(flags.preset)));
    return EXIT_OK;
  }
  const written = await writePreset(flags);
  io.err(
    `Wrote ${written.path}: preset ${written.preset} (${
      countsSummary(written.counts)
    }, ${written.counts.tests} tests).\n` +
      `Next: cloudsignal acl test ${written.path}\n`,
  );
  return EXIT_OK;
}

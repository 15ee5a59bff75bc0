/** `acl init`: writes a starter policy from a preset, to a file or stdout. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { UsageError } from "../../core/errors.ts";
import { writePreset } from "../../policy/init.ts";
import { formatJson } from "../../core/json_text.ts";
import { preset, type PresetName } from "../../policy/presets.ts";
import { countsSummary } from "../../policy/report.ts";

/** Flags of `acl init`. */
export interface InitFlags {
  preset: PresetName;
  output: string;
  force?: boolean;
  json?: boolean;
}

/** Writes the preset to `flags.output` (`-` for stdout). */
export async function runInit(context: CliContext, flags: InitFlags): Promise<number> {
  const { io } = context;
  if (flags.output === "-") {
    if (flags.json) {
      throw new UsageError(
        "--json reports a written file; with --output - the policy itself is the output",
      );
    }
    io.out(formatJson(preset(flags.preset)));
    return EXIT_OK;
  }
  const written = await writePreset(flags);
  if (flags.json) {
    printJson(io, { file: written.path, preset: written.preset, counts: written.counts });
    return EXIT_OK;
  }
  const what = written.written === "unchanged"
    ? `${written.path} already holds`
    : `Wrote ${written.path}:`;
  io.err(
    `${what} preset ${written.preset} (${
      countsSummary(written.counts)
    }, ${written.counts.tests} tests).\n` +
      `Next: cloudsignal acl test ${written.path}\n`,
  );
  return EXIT_OK;
}

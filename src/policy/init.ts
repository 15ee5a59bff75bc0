/** Starter policies: writing a preset to a file, never over other contents unless asked. */

import { type OutputFileResult, writeOutputFile } from "../core/output_file.ts";
import type { PolicyCounts } from "../acl/validate.ts";
import { formatJson } from "../core/json_text.ts";
import { preset, type PresetName } from "./presets.ts";

/** Input of `writePreset`. */
export interface WritePresetInput {
  preset: PresetName;
  /** The file to write. */
  output: string;
  /** Replace the file if it exists. */
  force?: boolean;
}

/** A preset's counts of rules and tests. */
export function presetCounts(name: PresetName): PolicyCounts {
  const policy = preset(name);
  return {
    global: policy.global?.length ?? 0,
    rules: policy.rules?.length ?? 0,
    publishers: policy.publishers?.length ?? 0,
    tests: policy.tests?.length ?? 0,
  };
}

/** Writes a preset, formatted, to a file (atomically); the overwrite rule of `writeOutputFile`. */
export async function writePreset(
  input: WritePresetInput,
): Promise<
  { path: string; preset: PresetName; counts: PolicyCounts; written: OutputFileResult }
> {
  const written = await writeOutputFile({
    path: input.output,
    text: formatJson(preset(input.preset)),
    force: input.force,
  });
  return {
    path: input.output,
    preset: input.preset,
    counts: presetCounts(input.preset),
    written,
  };
}

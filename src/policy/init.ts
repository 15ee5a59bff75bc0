/** Starter policies: writing a preset to a file, never over an existing one unless asked. */

import { OperationError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/atomic_write.ts";
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Writes a preset, formatted, to a file (atomically); refuses an existing file without `force`. */
export async function writePreset(
  input: WritePresetInput,
): Promise<{ path: string; preset: PresetName; counts: PolicyCounts }> {
  const text = formatJson(preset(input.preset));
  if (!input.force && await exists(input.output)) {
    throw new OperationError(
      `${input.output} already exists; nothing was written`,
      "Use --force to replace it, or --output <file> to write elsewhere.",
    );
  }
  try {
    await writeFileAtomic(input.output, text);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "its directory does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new OperationError(`cannot write ${input.output}: ${reason}`);
  }
  return { path: input.output, preset: input.preset, counts: presetCounts(input.preset) };
}

/** `acl init`: writes a starter policy, never over an existing file unless asked. */

import { CliError } from "../cli/errors.ts";
import type { Io } from "../cli/io.ts";
import { writeFileAtomic } from "../cli/atomic_write.ts";
import { countsSummary } from "./report.ts";
import { formatPolicyJson } from "./json_format.ts";
import { preset, type PresetName } from "./presets.ts";

/** Flags of `acl init`. */
export interface InitFlags {
  preset: PresetName;
  output: string;
  force?: boolean;
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

/** Writes the preset to `flags.output` (`-` for stdout). */
export async function initPolicy(io: Io, flags: InitFlags): Promise<number> {
  const policy = preset(flags.preset);
  const text = formatPolicyJson(policy);
  if (flags.output === "-") {
    io.out(text);
    return 0;
  }
  if (!flags.force && await exists(flags.output)) {
    throw new CliError(
      `${flags.output} already exists; nothing was written`,
      1,
      "Use --force to replace it, or --output <file> to write elsewhere.",
    );
  }
  try {
    await writeFileAtomic(flags.output, text);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "its directory does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new CliError(`cannot write ${flags.output}: ${reason}`);
  }
  const counts = {
    global: policy.global?.length ?? 0,
    rules: policy.rules?.length ?? 0,
    publishers: policy.publishers?.length ?? 0,
    tests: policy.tests?.length ?? 0,
  };
  io.err(
    `Wrote ${flags.output}: preset ${flags.preset} (${
      countsSummary(counts)
    }, ${counts.tests} tests).\n` +
      `Next: cloudsignal acl test ${flags.output}\n`,
  );
  return 0;
}

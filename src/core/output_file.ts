/**
 * Writing a command's output file (`acl get -o`, `acl init`): one overwrite rule for all of
 * them. An existing file is never replaced without `force` unless it already holds exactly
 * what would be written; the write is atomic, and failures name the file and why.
 */

import { OperationError } from "./errors.ts";
import { writeFileAtomic } from "./atomic_write.ts";

/** Input of `writeOutputFile`. */
export interface OutputFileInput {
  path: string;
  text: string;
  /** Replace a file that exists with other contents. */
  force?: boolean;
  /** The flag that allows replacing, for the hint (default `--force`). */
  forceFlag?: string;
}

/** What `writeOutputFile` did. */
export type OutputFileResult = "created" | "replaced" | "unchanged";

async function currentText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    if (error instanceof Deno.errors.IsADirectory) {
      throw new OperationError(`cannot write ${path}: it is a directory`);
    }
    // Unreadable (permissions, not UTF-8…) but present: treat as different contents.
    return "";
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "its directory does not exist";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.NotADirectory) return "a part of its path is not a directory";
  return error instanceof Error ? error.message : String(error);
}

/**
 * Writes `text` to `path` atomically. An existing file with other contents is refused
 * (`OperationError`, nothing written) unless `force`; one with the same contents is left as is.
 */
export async function writeOutputFile(input: OutputFileInput): Promise<OutputFileResult> {
  const existing = await currentText(input.path);
  if (existing === input.text) return "unchanged";
  if (existing !== null && !input.force) {
    throw new OperationError(
      `${input.path} already exists; nothing was written`,
      `Use ${input.forceFlag ?? "--force"} to replace it, or --output <file> to write elsewhere.`,
    );
  }
  try {
    await writeFileAtomic(input.path, input.text);
  } catch (error) {
    throw new OperationError(`cannot write ${input.path}: ${reasonOf(error)}`);
  }
  return existing === null ? "created" : "replaced";
}

/**
 * Reading policy files: one clear message for a missing file, a directory, a file too large
 * or unreadable, and the line and column of bytes that are not UTF-8.
 */

import { OperationError } from "../core/errors.ts";
import type { Finding } from "../acl/types.ts";

/** Policy files larger than this are refused before reading (the API accepts 1 MiB). */
export const MAX_POLICY_FILE_BYTES = 32 * 1024 * 1024;

/** A policy file's text, or the finding that it is not UTF-8. */
export interface PolicySource {
  /** The name to show: the path as given, or `<stdin>`. */
  name: string;
  text: string | null;
  /** Set when the bytes are not UTF-8. */
  encodingError: Finding | null;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The refusal of a policy over the size limit; `exact` when the size is known, otherwise
 * reading stopped once it passed the limit.
 */
export function tooLarge(name: string, bytes: number, exact: boolean): OperationError {
  return new OperationError(
    `${name} is ${exact ? "" : "over "}${mebibytes(bytes)}; ` +
      `policy files are limited to ${mebibytes(MAX_POLICY_FILE_BYTES)}`,
    undefined,
    "too_large",
  );
}

async function readLimited(file: Deno.FsFile, name: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of file.readable) {
    total += chunk.length;
    if (total > MAX_POLICY_FILE_BYTES) throw tooLarge(name, MAX_POLICY_FILE_BYTES, false);
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

function describeOpenError(path: string, error: unknown): OperationError {
  if (error instanceof Deno.errors.NotFound) {
    return new OperationError(`cannot read ${path}: no such file`);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new OperationError(`cannot read ${path}: permission denied`);
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return new OperationError(`${path} is a directory; expected a policy JSON file`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new OperationError(`cannot read ${path}: ${message}`);
}

/** Reads the bytes of a policy file (or stdin for `-`), with size and type checks. */
export async function readPolicyBytes(path: string): Promise<{ name: string; bytes: Uint8Array }> {
  if (path === "-") {
    return {
      name: "<stdin>",
      bytes: await readLimited(Deno.stdin as unknown as Deno.FsFile, "<stdin>"),
    };
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw describeOpenError(path, error);
  }
  if (info.isDirectory) {
    throw new OperationError(`${path} is a directory; expected a policy JSON file`);
  }
  if (info.isFile && info.size > MAX_POLICY_FILE_BYTES) throw tooLarge(path, info.size, true);
  if (info.isFile) {
    // A regular file of known size: one read (streams cost milliseconds to start).
    try {
      const bytes = await Deno.readFile(path);
      if (bytes.length > MAX_POLICY_FILE_BYTES) throw tooLarge(path, bytes.length, true);
      return { name: path, bytes };
    } catch (error) {
      if (error instanceof OperationError) throw error;
      throw describeOpenError(path, error);
    }
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw describeOpenError(path, error);
  }
  try {
    return { name: path, bytes: await readLimited(file, path) };
  } catch (error) {
    if (error instanceof OperationError) throw error;
    throw describeOpenError(path, error);
  }
}

/** Offset of the first byte that breaks UTF-8, or -1 when all of them are valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function encodingFinding(bytes: Uint8Array, offset: number): Finding {
  let lineStart = 0;
  let line = 1;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const column = new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1;
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) ||
    (bytes[0] === 0xfe && bytes[1] === 0xff);
  const byte = bytes[offset].toString(16).toUpperCase().padStart(2, "0");
  return {
    severity: "error",
    code: "not_utf8",
    path: "(root)",
    pointer: "",
    message: utf16
      ? "the file is UTF-16; save it as UTF-8"
      : `the file is not valid UTF-8 (byte 0x${byte} at offset ${offset}); save it as UTF-8`,
    line,
    column,
    stage: "local",
  };
}

/** Reads a policy file as text, or reports where its bytes stop being UTF-8. */
export async function readPolicySource(path: string): Promise<PolicySource> {
  const { name, bytes } = await readPolicyBytes(path);
  try {
    return {
      name,
      text: new TextDecoder("utf-8", { fatal: true }).decode(bytes),
      encodingError: null,
    };
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes));
    return { name, text: null, encodingError: encodingFinding(bytes, offset) };
  }
}

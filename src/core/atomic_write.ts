/**
 * Atomic file replacement: write a temporary file in the same directory, fsync it, set its
 * mode, rename it over the target, and fsync the directory. A reader (or a crash) sees the
 * old file or the new one, never a mix.
 */

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /** File mode of the result (POSIX); the temporary file has it before any byte is written. */
  mode?: number;
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Replaces `path` with `data` atomically. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const directory = dirname(path);
  const base = path.slice(directory === "." && !path.startsWith("./") ? 0 : directory.length + 1);
  const temporary = `${directory}/.${base}.${randomSuffix()}.tmp`;
  const file = await Deno.open(temporary, {
    write: true,
    createNew: true,
    mode: options.mode ?? 0o644,
  });
  try {
    if (options.mode !== undefined && Deno.build.os !== "windows") {
      await Deno.chmod(temporary, options.mode);
    }
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } catch (error) {
    file.close();
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  file.close();
  try {
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  if (Deno.build.os !== "windows") {
    const dir = await Deno.open(directory, { read: true }).catch(() => null);
    if (dir) {
      await dir.sync().catch(() => {});
      dir.close();
    }
  }
}

/**
 * An exclusive lock between CLI processes: `Deno.FsFile.lock()` (flock on POSIX, LockFileEx
 * on Windows) on a lock file next to the credentials. The operating system releases it
 * when the holder exits or is killed, so a crashed process never leaves a stale lock
 * behind. The lock file itself stays (removing it would let two processes lock two
 * different files); it holds the holder's pid and start time, for the waiting message.
 */

import { OperationError } from "../core/errors.ts";

/** Options of `withFileLock`. */
export interface FileLockOptions {
  /** Give up after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Called once when the lock is not free after `waitNoticeMs`, with the holder's pid. */
  onWait?: (holderPid: number | null) => void;
  /** When to call `onWait` (default 1 000 ms). */
  waitNoticeMs?: number;
}

async function holderPid(path: string): Promise<number | null> {
  try {
    const text = await Deno.readTextFile(path);
    const pid = (JSON.parse(text) as { pid?: unknown }).pid;
    return typeof pid === "number" ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Runs `action` while holding the exclusive lock on `path` (created with mode 0600 when
 * missing). Waits for another holder; fails with a `OperationError` after `timeoutMs`.
 */
export async function withFileLock<T>(
  path: string,
  action: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  let acquired = false;
  try {
    const locking = file.lock(true).then(() => {
      acquired = true;
    });
    let noticeTimer: ReturnType<typeof setTimeout> | undefined;
    let timeoutTimer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timeoutTimer = setTimeout(() => resolve("timeout"), options.timeoutMs ?? 60_000);
    });
    if (options.onWait) {
      const onWait = options.onWait;
      noticeTimer = setTimeout(async () => {
        if (!acquired) onWait(await holderPid(path));
      }, options.waitNoticeMs ?? 1_000);
    }
    const outcome = await Promise.race([locking.then(() => "locked" as const), timedOut]);
    clearTimeout(noticeTimer);
    clearTimeout(timeoutTimer);
    if (outcome === "timeout") {
      const pid = await holderPid(path);
      throw new OperationError(
        `another cloudsignal process${pid ? ` (pid ${pid})` : ""} has held ${path} for too long`,
        "Wait for it to finish or stop it, then run the command again.",
      );
    }
    await file.truncate(0);
    await file.write(
      new TextEncoder().encode(JSON.stringify({ pid: Deno.pid, since: new Date().toISOString() })),
    );
    return await action();
  } finally {
    if (acquired) await file.unlock().catch(() => {});
    file.close();
  }
}

import assert from "node:assert/strict";
import { withFileLock } from "../../src/auth/lock.ts";
import { OperationError } from "../../src/core/errors.ts";
import { tempDir } from "../support/cli.ts";

const HOLDER = new URL("./support/hold_lock.ts", import.meta.url).pathname;

async function startHolder(directory: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", HOLDER, directory],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value), "locked\n");
  reader.releaseLock();
  return child;
}

Deno.test("the lock is exclusive within one process", async () => {
  const dir = await tempDir();
  try {
    const order: string[] = [];
    const path = `${dir.path}/credentials.json.lock`;
    const task = (name: string) =>
      withFileLock(path, async () => {
        order.push(`${name}:in`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`${name}:out`);
      });
    await Promise.all([task("a"), task("b"), task("c")]);
    for (let i = 0; i < order.length; i += 2) {
      assert.equal(order[i].split(":")[0], order[i + 1].split(":")[0], order.join(" "));
    }
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a waiter is told who holds the lock, and gets it when the holder is killed", async () => {
  const dir = await tempDir();
  const holder = await startHolder(dir.path);
  try {
    let waitedFor: number | null | undefined;
    let killed = false;
    const result = await withFileLock(`${dir.path}/credentials.json.lock`, () => {
      assert.equal(killed, true, "entered only after the holder died");
      return Promise.resolve("done");
    }, {
      waitNoticeMs: 50,
      onWait: (pid) => {
        waitedFor = pid;
        killed = true;
        holder.kill("SIGKILL");
      },
    });
    assert.equal(result, "done");
    assert.equal(waitedFor, holder.pid);
  } finally {
    try {
      holder.kill("SIGKILL");
    } catch { /* gone */ }
    await holder.status;
    await holder.stdout.cancel().catch(() => {});
    await dir.cleanup();
  }
});

Deno.test({
  name: "waiting too long for the lock is a clear error naming the holder",
  // The abandoned lock request finishes in a worker thread after the test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await tempDir();
    const holder = await startHolder(dir.path);
    try {
      const error = await withFileLock(`${dir.path}/credentials.json.lock`, () => {
        throw new Error("must not run");
      }, { timeoutMs: 200 }).then(() => null, (e) => e);
      assert.ok(error instanceof OperationError);
      assert.equal(
        error.message,
        `another cloudsignal process (pid ${holder.pid}) has held ${dir.path}/credentials.json.lock for too long`,
      );
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel().catch(() => {});
      await dir.cleanup();
    }
  },
});

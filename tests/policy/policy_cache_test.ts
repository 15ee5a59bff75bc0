import assert from "node:assert/strict";
import { PolicyCache } from "../../src/policy/policy_cache.ts";
import { PolicyInvalidError } from "../../src/policy/errors.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import { tempDir } from "../support/cli.ts";

function policyText(topic: string): string {
  return JSON.stringify(
    { version: "2.2", default: "deny", rules: [{ topic, action: "pub" }] },
    null,
    2,
  );
}

function allows(compiled: Parameters<typeof evaluate>[0], topic: string): boolean {
  return evaluate(compiled, { client: { username: "u" }, action: "pub", topic }).decision ===
    "allow";
}

/** Sets a file's modification time to `secondsAgo` seconds in the past. */
async function age(path: string, secondsAgo: number): Promise<void> {
  const when = new Date(Date.now() - secondsAgo * 1000);
  await Deno.utime(path, when, when);
}

Deno.test("the same text is compiled once, whatever its name or source", async () => {
  const dir = await tempDir();
  try {
    const cache = new PolicyCache();
    const first = await cache.load({ text: policyText("a/#"), name: "one" });
    assert.equal(cache.lastOutcome, "miss");
    assert.equal(first.name, "one");
    const again = await cache.load({ text: policyText("a/#"), name: "two" });
    assert.equal(cache.lastOutcome, "hit");
    assert.equal(again.name, "two");
    assert.equal(again.compiled, first.compiled);

    const path = `${dir.path}/policy.json`;
    await Deno.writeTextFile(path, policyText("a/#"));
    const fromFile = await cache.load({ path });
    assert.equal(cache.lastOutcome, "hit");
    assert.equal(fromFile.name, path);
    assert.equal(fromFile.compiled, first.compiled);
    assert.equal(cache.size, 1);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a changed file is compiled again, even with the same size and a settled time", async () => {
  const dir = await tempDir();
  try {
    const cache = new PolicyCache();
    const path = `${dir.path}/policy.json`;
    await Deno.writeTextFile(path, policyText("a/#"));
    await age(path, 60);
    assert.equal(allows((await cache.load({ path })).compiled, "a/x"), true);
    await cache.load({ path });
    assert.equal(cache.lastOutcome, "hit");

    // Same length, rewritten in place: the times move, so the file is read and hashed again.
    await Deno.writeTextFile(path, policyText("b/#"));
    await age(path, 60);
    const changed = await cache.load({ path });
    assert.equal(cache.lastOutcome, "miss");
    assert.equal(allows(changed.compiled, "a/x"), false);
    assert.equal(allows(changed.compiled, "b/x"), true);

    // Back to the first text: its compiled policy is still held.
    await Deno.writeTextFile(path, policyText("a/#"));
    await cache.load({ path });
    assert.equal(cache.lastOutcome, "hit");
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a rewrite with its modification time put back is still noticed", async () => {
  const dir = await tempDir();
  try {
    const cache = new PolicyCache();
    const path = `${dir.path}/policy.json`;
    await Deno.writeTextFile(path, policyText("a/#"));
    await cache.load({ path });
    // Overwrite with the same size and restore the exact times: only the content differs.
    const before = await Deno.stat(path);
    await Deno.writeTextFile(path, policyText("c/#"));
    await Deno.utime(path, before.atime!, before.mtime!);
    const reloaded = await cache.load({ path });
    assert.equal(allows(reloaded.compiled, "c/x"), true);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("invalid policies are refused with their findings and never kept", async () => {
  const cache = new PolicyCache();
  const text = JSON.stringify({ version: "2.2", default: "deny", rules: [{ topic: "a/#" }] });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(cache.load({ text, name: "bad" }), (error) => {
      assert.ok(error instanceof PolicyInvalidError);
      assert.equal(error.source, "bad");
      assert.ok(error.result.findings.some((finding) => finding.severity === "error"));
      return true;
    });
  }
  assert.equal(cache.size, 0);
});

Deno.test("the least recently used policy goes when the cache is full", async () => {
  const cache = new PolicyCache({ maxEntries: 2 });
  await cache.load({ text: policyText("a/#") });
  await cache.load({ text: policyText("b/#") });
  await cache.load({ text: policyText("a/#") });
  await cache.load({ text: policyText("c/#") });
  assert.equal(cache.size, 2);
  await cache.load({ text: policyText("a/#") });
  assert.equal(cache.lastOutcome, "hit");
  await cache.load({ text: policyText("b/#") });
  assert.equal(cache.lastOutcome, "miss");
});

Deno.test("files the cache cannot hash take the usual path and its messages", async () => {
  const dir = await tempDir();
  try {
    const cache = new PolicyCache();
    await assert.rejects(
      cache.load({ path: `${dir.path}/missing.json` }),
      /cannot read .*missing\.json: no such file/,
    );
    await assert.rejects(cache.load({ path: dir.path }), /is a directory/);
    const latin1 = `${dir.path}/latin1.json`;
    await Deno.writeFile(latin1, new Uint8Array([0x7b, 0xe9, 0x7d]));
    await assert.rejects(cache.load({ path: latin1 }), (error) => {
      assert.ok(error instanceof PolicyInvalidError);
      assert.equal(error.result.findings[0].code, "not_utf8");
      return true;
    });
    assert.equal(cache.lastOutcome, "uncached");
  } finally {
    await dir.cleanup();
  }
});

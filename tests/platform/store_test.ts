/** The SQLite store: schema version and migrations, revisions, caches, and crash consistency. */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  DATABASE_FILE,
  DEFAULT_POLICY,
  PlatformStore,
  SCHEMA_VERSION,
  StoreError,
} from "../../src/platform/mod.ts";
import { tempDir } from "../support/cli.ts";

Deno.test("a new store gets the current schema version; reopening keeps the data", async () => {
  const dir = await tempDir();
  try {
    const store = await PlatformStore.open(`${dir.path}/nested/data`);
    assert.equal(store.schemaVersion, SCHEMA_VERSION);
    const org = store.createOrganization({ name: "Acme", short_id: "acme" });
    const user = await store.createUser({
      org_id: org.id,
      email: "a@acme.test",
      password: "pw-123456",
    });
    store.setClaim(user.id, "agent_id", "scout");
    store.close();
    const again = await PlatformStore.open(`${dir.path}/nested/data`);
    assert.equal(again.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(again.organizationByShortId("acme"), org);
    assert.deepEqual(again.claims(user.id), { agent_id: "scout" });
    assert.equal(await again.verifyPassword(user.id, "pw-123456"), true);
    assert.equal(await again.verifyPassword(user.id, "wrong"), false);
    assert.deepEqual(again.policy(org.id).policy, DEFAULT_POLICY, "a new organization's policy");
    assert.equal(again.integrityCheck(), "ok");
    again.close();
  } finally {
    await dir.cleanup();
  }
});

Deno.test("passwords are stored as salted PBKDF2 hashes, tokens only as digests", async () => {
  const dir = await tempDir();
  try {
    const store = await PlatformStore.open(dir.path);
    const org = store.createOrganization({ name: "Acme" });
    const a = await store.createUser({
      org_id: org.id,
      email: "a@x.test",
      password: "same-password",
    });
    const b = await store.createUser({
      org_id: org.id,
      email: "b@x.test",
      password: "same-password",
    });
    const tokens = await store.createSession(a.id, "cloudsignal-cli", {
      accessTtlSeconds: 60,
      refreshTtlSeconds: 60,
    });
    store.close();
    const db = new DatabaseSync(`${dir.path}/${DATABASE_FILE}`);
    const hashes = db.prepare("SELECT password_hash FROM users WHERE id IN (?, ?)").all(a.id, b.id)
      .map((row) => String(row.password_hash));
    for (const hash of hashes) assert.match(hash, /^pbkdf2-sha256\$600000\$[\w-]{22}\$[\w-]{43}$/);
    assert.notEqual(hashes[0], hashes[1], "salted");
    const raw = db.prepare("SELECT hash FROM tokens").all().map((row) => String(row.hash));
    assert.equal(raw.length, 2);
    assert.ok(!raw.includes(tokens.access_token) && !raw.includes(tokens.refresh_token));
    db.close();
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a database from a newer cloudsignal is refused with a clear message", async () => {
  const dir = await tempDir();
  try {
    (await PlatformStore.open(dir.path)).close();
    const db = new DatabaseSync(`${dir.path}/${DATABASE_FILE}`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assert.rejects(PlatformStore.open(dir.path), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.code, "schema_too_new");
      assert.match(error.message, /newer than this cloudsignal knows/);
      return true;
    });
  } finally {
    await dir.cleanup();
  }
});

Deno.test("policy revisions: numbered, optimistic, compiled once per revision", async () => {
  const dir = await tempDir();
  try {
    const store = await PlatformStore.open(dir.path);
    const org = store.createOrganization({ name: "Acme" });
    const first = store.policy(org.id);
    assert.equal(first.revision, 1);
    assert.equal(store.policy(org.id), first, "cached");
    const text = JSON.stringify({ version: "2.2", default: "allow" });
    assert.deepEqual(store.putPolicy(org.id, text, 2, null), { ok: false, current: 1 });
    const stored = store.putPolicy(org.id, text, 1, null);
    assert.equal(stored.ok && stored.revision, 2);
    assert.equal(store.policy(org.id).revision, 2);
    assert.notEqual(store.policy(org.id), first);
    assert.throws(() => store.putPolicy(org.id, '{"version":"2.2"}', null, null), StoreError);
    assert.deepEqual(store.revisions(org.id, 10).map((r) => r.revision), [2, 1]);
    assert.equal(store.revision(org.id, 2)?.text, text);
    store.close();
  } finally {
    await dir.cleanup();
  }
});

Deno.test("changes by another connection reach the caches", async () => {
  const dir = await tempDir();
  try {
    const store = await PlatformStore.open(dir.path);
    const org = store.createOrganization({ name: "Acme" });
    const user = await store.createUser({
      org_id: org.id,
      email: "a@x.test",
      password: "pw-123456",
    });
    assert.deepEqual(store.claims(user.id), {});
    const other = await PlatformStore.open(dir.path);
    other.setClaim(user.id, "team", "blue");
    other.putPolicy(org.id, JSON.stringify({ version: "2.2", default: "allow" }), null, null);
    other.close();
    assert.equal(store.checkExternalChanges(), true);
    assert.deepEqual(store.claims(user.id), { team: "blue" });
    assert.equal(store.policy(org.id).revision, 2);
    assert.equal(store.checkExternalChanges(), false);
    store.close();
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a writer killed with SIGKILL mid-write leaves a consistent database", async () => {
  const dir = await tempDir();
  try {
    for (let round = 0; round < 3; round++) {
      const writer = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          new URL("./fixtures/store_writer.ts", import.meta.url).pathname,
          dir.path,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = writer.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      const target = 20 + round * 7;
      while (!seen.includes(`wrote ${target}\n`)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the writer stopped: ${seen}`);
        seen += value;
      }
      writer.kill("SIGKILL");
      reader.cancel().catch(() => {});
      await writer.stderr.cancel().catch(() => {});
      await writer.status;

      const store = await PlatformStore.open(dir.path);
      assert.equal(store.integrityCheck(), "ok");
      for (const org of store.organizations()) {
        const revisions = store.revisions(org.id, 10_000).map((r) => r.revision);
        assert.equal(revisions.at(-1), 1, `${org.name} has its first revision`);
        assert.deepEqual(revisions, revisions.map((_, i) => revisions.length - i), "no gaps");
        for (const revision of revisions) JSON.parse(store.revision(org.id, revision)!.text);
      }
      const writerOrg = store.organizations()[0];
      const user = store.users(writerOrg.id)[0];
      const counter = Number(store.claims(user.id).counter);
      assert.ok(counter >= target, "every acknowledged write is there");
      store.close();
    }
  } finally {
    await dir.cleanup();
  }
});

Deno.test("the database files are private even in an existing, open directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudsignal-store-modes-" });
  try {
    await Deno.chmod(dir, 0o755);
    const store = await PlatformStore.open(dir);
    store.close();
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    for (const name of ["platform.sqlite3", "platform.sqlite3-wal", "platform.sqlite3-shm"]) {
      const info = await Deno.stat(`${dir}/${name}`).catch(() => null);
      if (info) assert.equal(info.mode! & 0o777, 0o600, name);
    }
    assert.equal((await Deno.stat(`${dir}/platform.sqlite3`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

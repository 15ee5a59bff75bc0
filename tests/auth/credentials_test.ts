import assert from "node:assert/strict";
import {
  credentialsLocation,
  currentApiUrlOf,
  currentSession,
  emptyCredentials,
  parseCredentials,
  readCredentials,
  serializeCredentials,
  updateCredentials,
  withCurrent,
  withoutSession,
  withSession,
} from "../../src/auth/credentials.ts";
import { OperationError } from "../../src/core/errors.ts";
import { tempDir } from "../support/cli.ts";
import { sampleSession } from "./support/sessions.ts";

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function refusal(promise: Promise<unknown>): Promise<OperationError> {
  const error = await promise.then(() => null, (e) => e);
  assert.ok(error instanceof OperationError, `expected a OperationError, got ${error}`);
  assert.equal(error.code, "failed");
  return error;
}

Deno.test("a write creates the directory 0700 and the file 0600, atomically", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(`${dir.path}/home`);
    const session = sampleSession();
    await updateCredentials(location, (file) => ({
      write: withSession(file, session, true),
      result: null,
    }));
    assert.equal(await mode(location.home), 0o700);
    assert.equal(await mode(location.file), 0o600);
    const read = await readCredentials(location);
    assert.deepEqual(currentSession(read!, session.api_url), session);
    assert.deepEqual(
      [...Deno.readDirSync(location.home)].map((e) => e.name).sort(),
      ["credentials.json", "credentials.json.lock"],
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("modes are re-applied on every write", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const add = (session = sampleSession()) =>
      updateCredentials(
        location,
        (file) => ({ write: withSession(file, session, true), result: 0 }),
      );
    await add();
    await Deno.chmod(location.home, 0o755);
    await Deno.chmod(location.file, 0o400);
    await add(sampleSession({ organization: { id: "org-2", short_id: "b", name: "B" } }));
    assert.equal(await mode(location.home), 0o700);
    assert.equal(await mode(location.file), 0o600);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a file readable by others is refused with how to fix it, and left alone", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const text = serializeCredentials(withSession(emptyCredentials(), sampleSession(), true));
    await Deno.writeTextFile(location.file, text, { mode: 0o644 });
    await Deno.chmod(location.file, 0o644);
    const error = await refusal(readCredentials(location));
    assert.equal(
      error.message,
      `credentials file ${location.file} is accessible by other users (mode 0644); refusing to use it`,
    );
    assert.match(error.hint!, new RegExp(`chmod 600 ${location.file}`));
    await refusal(updateCredentials(location, (file) => ({ write: file, result: 0 })));
    assert.equal(await Deno.readTextFile(location.file), text);
    assert.equal(await mode(location.file), 0o644);
    await Deno.chmod(location.file, 0o600);
    assert.ok(await readCredentials(location));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a damaged file gets a clear message without its content, and is never overwritten", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const text = '{\n  "version": 1,\n  "sessions": [ {"access_token": "SECRET-TOKEN" ]\n}';
    await Deno.writeTextFile(location.file, text, { mode: 0o600 });
    const error = await refusal(readCredentials(location));
    assert.match(
      error.message,
      /^credentials file .* is damaged: not valid JSON at line 3, column \d+/,
    );
    assert.doesNotMatch(error.message + error.hint, /SECRET/);
    assert.match(error.hint!, /left unchanged.*mv .*credentials\.json\.damaged/);
    const session = sampleSession();
    await refusal(
      updateCredentials(
        location,
        (file) => ({ write: withSession(file, session, true), result: 0 }),
      ),
    );
    assert.equal(await Deno.readTextFile(location.file), text);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a wrong field names its JSON path", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const file = withSession(emptyCredentials(), sampleSession(), true);
    const broken = JSON.parse(serializeCredentials(file));
    broken.sessions[0].organization.id = 42;
    await Deno.writeTextFile(location.file, JSON.stringify(broken), { mode: 0o600 });
    const error = await refusal(readCredentials(location));
    assert.equal(
      error.message,
      `credentials file ${location.file} is damaged: sessions[0].organization.id: expected a non-empty string, found a number`,
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("an unknown format version is refused and kept", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const text = JSON.stringify({ version: 2, stores: {} });
    await Deno.writeTextFile(location.file, text, { mode: 0o600 });
    const error = await refusal(readCredentials(location));
    assert.equal(
      error.message,
      `credentials file ${location.file} has format version 2; this cloudsignal reads version 1`,
    );
    assert.match(error.hint!, /newer cloudsignal/);
    await refusal(updateCredentials(location, (file) => ({ write: file, result: 0 })));
    assert.equal(await Deno.readTextFile(location.file), text);
    await Deno.writeTextFile(location.file, JSON.stringify({ version: "one" }), { mode: 0o600 });
    assert.match(
      (await refusal(readCredentials(location))).message,
      /version: expected the number 1, found a string/,
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("sessions are keyed by API URL and organization, one current per API URL", () => {
  const a = sampleSession();
  const b = sampleSession({ organization: { id: "org-b", short_id: "b", name: "B" } });
  const other = sampleSession({ api_url: "https://api.cloudsignal.io" });
  let file = withSession(emptyCredentials(), a, true);
  file = withSession(file, other, true);
  assert.equal(currentApiUrlOf(file), other.api_url, "the last login is the current session");
  file = withSession(file, b, true);
  assert.equal(currentApiUrlOf(file), a.api_url);
  assert.equal(currentSession(file, a.api_url)?.organization.id, "org-b");
  assert.equal(currentSession(file, other.api_url)?.access_token, other.access_token);
  const again = sampleSession();
  file = withSession(file, again, false);
  assert.equal(file.sessions.length, 3, "same key replaces");
  assert.equal(currentSession(file, a.api_url)?.organization.id, "org-b", "not made current");
  file = withoutSession(file, a.api_url, "org-b");
  assert.equal(currentSession(file, a.api_url), null, "no other session is chosen unchecked");
  assert.equal(currentApiUrlOf(file), a.api_url, "commands keep addressing the same API");
  file = withCurrent(file, a.api_url, again.organization.id);
  assert.equal(currentSession(file, a.api_url)?.access_token, again.access_token);
  file = withoutSession(file, a.api_url, a.organization.id);
  assert.equal(currentSession(file, a.api_url), null);
  assert.deepEqual(Object.keys(file.current), [other.api_url]);
});

Deno.test("a file from before current_api_url: the default API, else the newest login", () => {
  const old = (sessions: ReturnType<typeof sampleSession>[]) =>
    parseCredentials(
      JSON.stringify({
        version: 1,
        current: Object.fromEntries(sessions.map((s) => [s.api_url, s.organization.id])),
        sessions,
      }),
      "credentials.json",
    );
  const local = sampleSession({ created_at: "2030-01-02T00:00:00.000Z" });
  const other = sampleSession({
    api_url: "http://127.0.0.1:5000",
    created_at: "2030-01-01T00:00:00.000Z",
  });
  const production = sampleSession({
    api_url: "https://api.cloudsignal.io",
    created_at: "2029-01-01T00:00:00.000Z",
  });
  assert.equal(currentApiUrlOf(old([local, other])), local.api_url);
  assert.equal(currentApiUrlOf(old([local, production])), production.api_url);
  assert.equal(currentApiUrlOf(old([])), null);
  const file = old([local]);
  assert.equal(file.current_api_url, undefined);
  assert.equal(file.sessions[0].user.username, "ada");
  const withoutUsername = JSON.parse(serializeCredentials(file));
  delete withoutUsername.sessions[0].user.username;
  const parsed = parseCredentials(JSON.stringify(withoutUsername), "credentials.json");
  assert.equal(parsed.sessions[0].user.username, null, "sessions stored before usernames");
  assert.throws(
    () => parseCredentials(JSON.stringify({ ...withoutUsername, current_api_url: 7 }), "c.json"),
    /current_api_url: expected a non-empty string, found a number/,
  );
});

Deno.test("the file is removed when the last session goes", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const session = sampleSession();
    await updateCredentials(
      location,
      (file) => ({ write: withSession(file, session, true), result: 0 }),
    );
    await updateCredentials(location, (file) => ({
      write: withoutSession(file, session.api_url, session.organization.id),
      result: 0,
    }));
    await assert.rejects(Deno.stat(location.file), Deno.errors.NotFound);
    assert.equal(await readCredentials(location), null);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("temporary files of a killed writer are removed by the next write", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const leftover = `${dir.path}/.credentials.json.0a1b2c3d4e5f.tmp`;
    await Deno.writeTextFile(leftover, "{", { mode: 0o600 });
    await updateCredentials(location, (file) => ({
      write: withSession(file, sampleSession(), true),
      result: 0,
    }));
    await assert.rejects(Deno.stat(leftover), Deno.errors.NotFound);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("concurrent updates under the lock lose nothing", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        updateCredentials(location, async (file) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          const session = sampleSession({
            organization: { id: `org-${i}`, short_id: `o${i}`, name: `Org ${i}` },
          });
          return { write: withSession(file, session, false), result: 0 };
        })),
    );
    const file = await readCredentials(location);
    assert.equal(file!.sessions.length, 12);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a stored token with control characters is refused without being shown", async () => {
  const dir = await tempDir();
  try {
    const location = credentialsLocation(dir.path);
    const file = withSession(emptyCredentials(), sampleSession(), true);
    const broken = JSON.parse(serializeCredentials(file));
    broken.sessions[0].access_token = "csat_TOPSECRET\u0000tail";
    await Deno.writeTextFile(location.file, JSON.stringify(broken), { mode: 0o600 });
    const error = await refusal(readCredentials(location));
    assert.equal(
      error.message,
      `credentials file ${location.file} is damaged: sessions[0].access_token: expected a token of printable ASCII characters, found a string`,
    );
    assert.doesNotMatch(`${error.message}${error.hint}`, /TOPSECRET/);
  } finally {
    await dir.cleanup();
  }
});

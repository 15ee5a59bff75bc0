import assert from "node:assert/strict";
import { expiryText } from "../../src/auth/account.ts";
import { runLogout, runWhoami } from "../../src/commands/auth/account.ts";
import { credentialsLocation, readCredentials } from "../../src/auth/credentials.ts";
import { AuthError } from "../../src/core/errors.ts";
import { recordingIo } from "../../src/cli/io.ts";
import { type CliContext, cliContext } from "../../src/cli/program.ts";
import { tempDir } from "../support/cli.ts";
import { seedSession, startTestPlatform } from "./support/login_flow.ts";

function contextFor(home: string, apiUrl: string, env: Record<string, string> = {}): CliContext {
  return cliContext(recordingIo({ env }), { apiUrl, home });
}

Deno.test("Token expires: in N minutes, rounded; singular; under a minute; unknown", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  assert.equal(expiryText(new Date(now + 47 * 60_000 + 10_000), now), "in 47 minutes");
  assert.equal(expiryText(new Date(now + 61_000), now), "in 1 minute");
  assert.equal(expiryText(new Date(now + 30_000), now), "in less than a minute");
  assert.equal(expiryText(new Date(now - 1), now), "expired");
  assert.equal(expiryText(null, now), "unknown");
});

Deno.test("whoami: the three documented lines exactly, then name, username and API URL", async () => {
  const t = await startTestPlatform();
  const dir = await tempDir();
  try {
    await seedSession(t.platform, dir.path, 47 * 60 + 20);
    const context = contextFor(dir.path, t.platform.apiUrl);
    assert.equal(await runWhoami(context, {}), 0);
    const io = context.io as ReturnType<typeof recordingIo>;
    const { organization } = t.platform;
    assert.equal(
      io.stdout,
      `Email: ada@example.com\nOrganization: ${organization.id}\nToken expires: in 47 minutes\n` +
        `Organization name: ${organization.name}\n` +
        `Username: ada (MQTT username ada@${organization.short_id})\n` +
        `API URL: ${t.platform.apiUrl}\n`,
    );
  } finally {
    await t.close();
    await dir.cleanup();
  }
});

Deno.test("logout with the server down still deletes the session and says revocation failed", async () => {
  const t = await startTestPlatform();
  const dir = await tempDir();
  try {
    await seedSession(t.platform, dir.path);
    await t.platform.close();
    const context = contextFor(dir.path, t.platform.apiUrl);
    assert.equal(await runLogout(context, { json: true }), 0);
    const io = context.io as ReturnType<typeof recordingIo>;
    assert.match(
      io.stderr,
      /Warning: could not revoke the session at the server \(cannot reach 127\.0\.0\.1:\d+: connection refused\); it was deleted here/,
    );
    const result = JSON.parse(io.stdout);
    assert.equal(result.logged_out, true);
    assert.equal(result.revoked, false);
    assert.equal(result.credentials_file_removed, true);
    assert.equal(await readCredentials(credentialsLocation(dir.path)), null);
  } finally {
    await t.close();
    await dir.cleanup();
  }
});

Deno.test("logout of one organization keeps the others and switches to one of them", async () => {
  const t = await startTestPlatform();
  const dir = await tempDir();
  try {
    const { platform } = t;
    const other = platform.store.createOrganization({ name: "Second" });
    const user = await platform.store.createUser({
      org_id: other.id,
      email: "bo@example.com",
      password: "another password here",
      username: "bo",
    });
    await seedSession(platform, dir.path);
    // A second session, for the other organization, made current.
    await seedSession({
      ...platform,
      organization: { id: other.id, short_id: other.short_id, name: other.name },
      user: { ...platform.user, id: user.id, email: user.email },
    }, dir.path);
    const context = contextFor(dir.path, platform.apiUrl);
    assert.equal(await runLogout(context, {}), 0);
    const io = context.io as ReturnType<typeof recordingIo>;
    assert.match(io.stderr, /Revoked the session/);
    assert.match(io.stderr, /Logged out bo@example\.com from organization Second/);
    assert.match(
      io.stderr,
      new RegExp(
        `Now current: Development \\(${platform.organization.id}\\) at .* as ada@example\\.com\\.`,
      ),
    );
    const file = await readCredentials(credentialsLocation(dir.path));
    assert.equal(file!.sessions.length, 1);
    assert.equal(file!.current[platform.apiUrl], platform.organization.id);
  } finally {
    await t.close();
    await dir.cleanup();
  }
});

Deno.test("logout when not logged in is a no-op that says so", async () => {
  const dir = await tempDir();
  try {
    const context = contextFor(dir.path, "http://127.0.0.1:9");
    assert.equal(await runLogout(context, {}), 0);
    const io = context.io as ReturnType<typeof recordingIo>;
    assert.equal(io.stderr, "Not logged in to http://127.0.0.1:9; nothing to log out of.\n");
    await assert.rejects(runWhoami(context, {}), AuthError);
  } finally {
    await dir.cleanup();
  }
});

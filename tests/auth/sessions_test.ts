/**
 * The session operations without a terminal: which API URL a command uses, `auth status`,
 * `auth switch` (with the numbered choice on a terminal), and the session `logout` makes
 * current, each checked against the platform's real server.
 */

import assert from "node:assert/strict";
import { currentApiUrl } from "../../src/auth/current.ts";
import {
  AmbiguousSessionError,
  authStatus,
  loginNeeded,
  switchSession,
} from "../../src/auth/sessions.ts";
import { logout } from "../../src/auth/account.ts";
import { credentialsLocation, readCredentials } from "../../src/auth/credentials.ts";
import { recordingIo } from "../../src/cli/io.ts";
import { cliContext, resolveApiUrlWith } from "../../src/cli/program.ts";
import { runAuthSwitch } from "../../src/commands/auth/switch.ts";
import { AuthError } from "../../src/core/errors.ts";
import { tempDir } from "../support/cli.ts";
import { testContext } from "../support/context.ts";
import {
  seedOrganization,
  seedSession,
  startTestPlatform,
  type TestPlatform,
} from "./support/login_flow.ts";
import { sampleSession } from "./support/sessions.ts";

async function withPlatform(fn: (t: TestPlatform, home: string) => Promise<void>) {
  const t = await startTestPlatform();
  const dir = await tempDir();
  try {
    await fn(t, dir.path);
  } finally {
    await t.close();
    await dir.cleanup();
  }
}

Deno.test("when a new login is needed: the access token's expiry without a refresh token, else the refresh token's", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  const session = (overrides: Parameters<typeof sampleSession>[0]) => sampleSession(overrides);
  assert.deepEqual(
    loginNeeded(session({ refresh_token: null, access_token_expires_at: at(30) }), now),
    { when: "at", at: at(30), because: "access_token_expires" },
  );
  assert.deepEqual(
    loginNeeded(session({ refresh_token: null, access_token_expires_at: at(-1) }), now),
    { when: "now" },
  );
  assert.deepEqual(
    loginNeeded(session({ refresh_token: null, access_token_expires_at: null }), now),
    { when: "unknown" },
  );
  assert.deepEqual(
    loginNeeded(session({ refresh_token_expires_at: at(86_400) }), now),
    { when: "at", at: at(86_400), because: "refresh_token_expires" },
  );
  assert.deepEqual(loginNeeded(session({ refresh_token_expires_at: at(-5) }), now), {
    when: "now",
  });
  assert.deepEqual(loginNeeded(session({ refresh_token_expires_at: null }), now), {
    when: "unknown",
  });
});

Deno.test("the API URL of commands without --api-url: the current session's, never with CLOUDSIGNAL_TOKEN", () =>
  withPlatform(async (t, home) => {
    const env = (values: Record<string, string>) => (name: string) => values[name];
    assert.equal(currentApiUrl(home, env({})), null, "nothing stored: the default API");
    await seedSession(t.platform, home);
    assert.equal(currentApiUrl(home, env({})), t.platform.apiUrl);
    assert.equal(currentApiUrl(home, env({ CLOUDSIGNAL_TOKEN: "abc" })), null);

    resolveApiUrlWith(currentApiUrl);
    try {
      const chosen = cliContext(recordingIo(), { home });
      assert.equal(chosen.apiUrlExplicit, false);
      assert.equal(chosen.apiUrl, t.platform.apiUrl);
      const flag = cliContext(recordingIo(), { home, apiUrl: "http://127.0.0.1:9/" });
      assert.equal(flag.apiUrl, "http://127.0.0.1:9");
    } finally {
      resolveApiUrlWith(() => null);
    }

    await Deno.chmod(`${home}/credentials.json`, 0o644);
    assert.equal(currentApiUrl(home, env({})), null, "an unsafe file is not trusted to choose");
  }));

Deno.test("auth status: every session with its expiries; CLOUDSIGNAL_TOKEN takes over", () =>
  withPlatform(async (t, home) => {
    const first = await seedSession(t.platform, home);
    const second = await seedOrganization(t.platform, home, "Second");
    const context = testContext({ home, apiUrl: t.platform.apiUrl });
    const status = await authStatus(context);
    assert.equal(status.sessions.length, 2);
    const [a, b] = status.sessions;
    assert.equal(a.organization.id, first.organization.id);
    assert.equal(a.current, false);
    assert.equal(b.organization.id, second.organization.id);
    assert.equal(b.current, true, "the last login");
    assert.equal(b.login_needed.when, "at");
    assert.equal(status.env_token, null);
    assert.equal(JSON.stringify(status).includes(first.access_token), false, "no token");

    const checked = await authStatus(context, { check: true });
    assert.deepEqual(checked.sessions.map((s) => s.check?.state), ["valid", "valid"]);

    const jwt = `x.${btoa(JSON.stringify({ exp: 1_900_000_000 }))}.y`;
    const withEnv = await authStatus(testContext({
      home,
      apiUrl: t.platform.apiUrl,
      env: { CLOUDSIGNAL_TOKEN: jwt },
    }));
    assert.deepEqual(withEnv.env_token, {
      source: "CLOUDSIGNAL_TOKEN",
      api_url: t.platform.apiUrl,
      expires_at: new Date(1_900_000_000_000).toISOString(),
    });
    assert.ok(withEnv.sessions.every((session) => !session.current));
  }));

Deno.test("auth switch on a terminal: a numbered choice between sessions named alike", () =>
  withPlatform(async (t, home) => {
    const first = await seedSession(t.platform, home);
    await seedOrganization(t.platform, home, "Development");
    const io = recordingIo({ terminal: true, answers: ["9", "1"] });
    const context = cliContext(io, { home });
    assert.equal(await runAuthSwitch(context, { org: "Development" }), 0);
    assert.match(io.stderr, /Several sessions match:\n {2}1\) Development .*\n {2}2\) Development/);
    assert.match(io.stderr, /Answer with a number from 1 to 2/);
    const file = await readCredentials(credentialsLocation(home));
    assert.equal(file!.current[t.platform.apiUrl], first.organization.id);

    const plain = recordingIo({ terminal: false });
    await assert.rejects(
      runAuthSwitch(cliContext(plain, { home }), { org: "development" }),
      AmbiguousSessionError,
    );
    const given = recordingIo({ terminal: true, answers: [] });
    await assert.rejects(
      runAuthSwitch(cliContext(given, { home }), { org: "Development" }),
      /No session chosen; the current one stays/,
    );
  }));

Deno.test("auth switch refuses a session its server says is over, and changes nothing", () =>
  withPlatform(async (t, home) => {
    const dead = await seedSession(t.platform, home);
    await t.platform.store.revokeToken(dead.refresh_token!);
    const alive = await seedOrganization(t.platform, home, "Second");
    const context = testContext({ home, apiUrl: t.platform.apiUrl });
    const error = await switchSession(context, { organization: dead.organization.id }).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof AuthError);
    assert.equal(error.code, "session_expired");
    assert.match(error.hint!, /cloudsignal login --api-url http:\/\/127\.0\.0\.1:\d+/);
    const file = await readCredentials(credentialsLocation(home));
    assert.equal(file!.current[t.platform.apiUrl], alive.organization.id);
  }));

Deno.test("logout makes current only a session its server confirms, newest first", () =>
  withPlatform(async (t, home) => {
    const older = await seedOrganization(t.platform, home, "Older");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const gone = await seedOrganization(t.platform, home, "Development");
    await t.platform.store.revokeToken(gone.refresh_token!);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const current = await seedSession(t.platform, home);
    const result = await logout(testContext({ home, apiUrl: t.platform.apiUrl }));
    assert.equal(result.session?.organization.id, current.organization.id);
    assert.deepEqual(result.skipped.map((s) => [s.session.organization.id, s.check.state]), [
      [gone.organization.id, "gone"],
    ]);
    assert.equal(result.now_current?.organization.id, older.organization.id);
    const file = await readCredentials(credentialsLocation(home));
    assert.equal(file!.current[t.platform.apiUrl], older.organization.id);
    assert.equal(file!.sessions.length, 2, "the gone one is kept until removed");
  }));

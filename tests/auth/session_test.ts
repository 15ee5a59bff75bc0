import assert from "node:assert/strict";
import {
  credentialsLocation,
  readCredentials,
  updateCredentials,
  withSession,
} from "../../src/auth/credentials.ts";
import {
  getAccessToken,
  loginCommand,
  SESSION_EXPIRED_MESSAGE,
  sessionExpired,
} from "../../src/auth/session.ts";
import { AuthError, OperationError, UnavailableError, UsageError } from "../../src/core/errors.ts";
import { testContext } from "../support/context.ts";
import { tempDir } from "../support/cli.ts";
import { seedSession, startTestPlatform, type TestPlatform } from "./support/login_flow.ts";
import { sampleSession } from "./support/sessions.ts";

function contextFor(home: string, apiUrl: string, env: Record<string, string> = {}) {
  return testContext({ home, apiUrl, env });
}

function seed(t: TestPlatform, home: string, expiresInSeconds: number) {
  return seedSession(t.platform, home, expiresInSeconds);
}

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

const refreshes = (t: TestPlatform) => t.platform.stats().tokenRequests.refresh_token;

Deno.test("a token with more than a minute left is used as is", () =>
  withPlatform(async (t, home) => {
    const session = await seed(t, home, 120);
    const access = await getAccessToken(contextFor(home, t.platform.apiUrl));
    assert.equal(access.token, session.access_token);
    assert.equal(access.source, "file");
    assert.equal(refreshes(t), 0);
  }));

Deno.test("under a minute left: refreshed silently, stored 0600, the new token works", () =>
  withPlatform(async (t, home) => {
    const session = await seed(t, home, 59);
    const access = await getAccessToken(contextFor(home, t.platform.apiUrl));
    assert.notEqual(access.token, session.access_token);
    assert.equal(refreshes(t), 1);
    const stored = (await readCredentials(credentialsLocation(home)))!.sessions[0];
    assert.equal(stored.access_token, access.token);
    assert.notEqual(stored.refresh_token, session.refresh_token, "rotated");
    assert.ok(Date.parse(stored.access_token_expires_at!) > Date.now() + 3000_000);
    assert.equal((await Deno.stat(`${home}/credentials.json`)).mode! & 0o777, 0o600);
    assert.ok(await t.platform.store.accessTokenOwner(access.token));
    // And the next command uses it without another refresh.
    await getAccessToken(contextFor(home, t.platform.apiUrl));
    assert.equal(refreshes(t), 1);
  }));

Deno.test("eight concurrent callers in one process make one refresh", () =>
  withPlatform(async (t, home) => {
    await seed(t, home, -10);
    const tokens = await Promise.all(
      Array.from({ length: 8 }, () => getAccessToken(contextFor(home, t.platform.apiUrl))),
    );
    assert.equal(new Set(tokens.map((a) => a.token)).size, 1);
    assert.equal(refreshes(t), 1);
  }));

Deno.test("a revoked session fails closed with the documented message (exit 4)", () =>
  withPlatform(async (t, home) => {
    const session = await seed(t, home, -10);
    await t.platform.store.revokeToken(session.refresh_token!);
    const before = await Deno.readTextFile(`${home}/credentials.json`);
    const error = await getAccessToken(contextFor(home, t.platform.apiUrl)).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof AuthError);
    assert.equal(error.code, "session_expired");
    assert.equal(
      error.message,
      `Session expired. Run \`cloudsignal login --api-url ${t.platform.apiUrl}\` again.`,
    );
    assert.equal(await Deno.readTextFile(`${home}/credentials.json`), before);
  }));

Deno.test("the documented message for the default API; --api-url and --client-id otherwise", () => {
  assert.equal(SESSION_EXPIRED_MESSAGE, "Session expired. Run `cloudsignal login` again.");
  assert.equal(sessionExpired().message, SESSION_EXPIRED_MESSAGE);
  assert.equal(
    sessionExpired("https://api.cloudsignal.io", "cloudsignal-cli").message,
    SESSION_EXPIRED_MESSAGE,
  );
  assert.equal(
    sessionExpired("http://127.0.0.1:8780").message,
    "Session expired. Run `cloudsignal login --api-url http://127.0.0.1:8780` again.",
  );
  assert.equal(
    sessionExpired("https://api.cloudsignal.io", "my-client").message,
    "Session expired. Run `cloudsignal login --client-id my-client` again.",
  );
  assert.equal(loginCommand("https://api.cloudsignal.io"), "cloudsignal login");
});

Deno.test("a token the server rejected is refreshed once, even with time left", () =>
  withPlatform(async (t, home) => {
    const session = await seed(t, home, 3000);
    const context = contextFor(home, t.platform.apiUrl);
    const access = await getAccessToken(context, { rejectedToken: session.access_token });
    assert.notEqual(access.token, session.access_token);
    assert.equal(refreshes(t), 1);
    // A caller still holding the old rejected token gets the new one without a refresh.
    const again = await getAccessToken(context, { rejectedToken: session.access_token });
    assert.equal(again.token, access.token);
    assert.equal(refreshes(t), 1);
  }));

Deno.test("an unreachable server is exit 5 and leaves the session as it was", () =>
  withPlatform(async (t, home) => {
    await seed(t, home, -10);
    const before = await Deno.readTextFile(`${home}/credentials.json`);
    await t.platform.close();
    const error = await getAccessToken(contextFor(home, t.platform.apiUrl)).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof UnavailableError);
    assert.equal(error.code, "unavailable");
    assert.match(error.message, /^cannot reach 127\.0\.0\.1:\d+: connection refused$/);
    assert.equal(await Deno.readTextFile(`${home}/credentials.json`), before);
  }));

Deno.test("CLOUDSIGNAL_TOKEN is used instead of the store and never written", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/credentials.json`, "{damaged", { mode: 0o600 });
    const context = contextFor(dir.path, "http://127.0.0.1:9", {
      CLOUDSIGNAL_TOKEN: " ci-token\n",
    });
    const access = await getAccessToken(context);
    assert.deepEqual(access, {
      token: "ci-token",
      source: "env",
      session: null,
      file: null,
      expiresAt: null,
    });
    assert.equal(await Deno.readTextFile(`${dir.path}/credentials.json`), "{damaged");
    const rejected = await getAccessToken(context, { rejectedToken: "ci-token" }).then(
      () => null,
      (e) => e,
    );
    assert.ok(rejected instanceof AuthError);
    assert.match(rejected.message, /the server rejected the token in CLOUDSIGNAL_TOKEN/);
    assert.doesNotMatch(rejected.message + rejected.hint, /ci-token/);
    const bad = contextFor(dir.path, "http://127.0.0.1:9", { CLOUDSIGNAL_TOKEN: "a b" });
    await assert.rejects(getAccessToken(bad), UsageError);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("no session is exit 4 telling to run cloudsignal login, naming other API URLs", async () => {
  const dir = await tempDir();
  try {
    const none = await getAccessToken(contextFor(dir.path, "http://127.0.0.1:9")).then(
      () => null,
      (e) => e,
    );
    assert.ok(none instanceof AuthError);
    assert.equal(
      none.message,
      "Not logged in to http://127.0.0.1:9. Run `cloudsignal login --api-url http://127.0.0.1:9` first (or set CLOUDSIGNAL_TOKEN).",
    );
    await updateCredentials(credentialsLocation(dir.path), (file) => ({
      write: withSession(file, sampleSession({ api_url: "https://api.cloudsignal.io" }), true),
      result: 0,
    }));
    const other = await getAccessToken(contextFor(dir.path, "http://127.0.0.1:9")).then(
      () => null,
      (e) => e,
    );
    assert.ok(other instanceof OperationError);
    assert.equal(
      other.hint,
      "Stored sessions:\n  https://api.cloudsignal.io  Acme (0b8e7c1e-org)  ada@example.com\n" +
        "Use one with `cloudsignal auth switch` (see `cloudsignal auth status`).",
    );
  } finally {
    await dir.cleanup();
  }
});

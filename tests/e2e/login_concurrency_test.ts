/**
 * Concurrent commands and one session: eight CLI processes started at once with an expired
 * access token, against the platform whose refresh tokens rotate with reuse detection.
 */

import assert from "node:assert/strict";
import {
  cliEnv,
  expireStoredAccessToken,
  launchBrowser,
  loginWithBrowser,
  spawnCli,
  startTestPlatform,
} from "../auth/support/login_flow.ts";
import { tempDir } from "../support/cli.ts";

const PROCESSES = 8;

Deno.test("8 processes with an expired access token: all succeed, one refresh, session still valid", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const { platform } = t;
    const env = cliEnv(home.path, platform.apiUrl);
    const { result: login } = await loginWithBrowser(browser, env);
    assert.equal(login.code, 0, login.stderr);
    assert.deepEqual(platform.stats().tokenRequests, { authorization_code: 1, refresh_token: 0 });

    await expireStoredAccessToken(home.path);
    const before = JSON.parse(await Deno.readTextFile(`${home.path}/credentials.json`));
    const results = await Promise.all(
      Array.from(
        { length: PROCESSES },
        () => spawnCli(["whoami", "--json", "--debug"], env).result(),
      ),
    );
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).email, "ada@example.com");
    }
    assert.equal(platform.stats().tokenRequests.refresh_token, 1, "exactly one refresh request");
    assert.equal(
      t.logs.filter((line) => line.includes("reuse")).length,
      0,
      "no refresh token was presented twice",
    );

    const after = JSON.parse(await Deno.readTextFile(`${home.path}/credentials.json`));
    const session = after.sessions[0];
    assert.notEqual(session.access_token, before.sessions[0].access_token);
    assert.notEqual(session.refresh_token, before.sessions[0].refresh_token);
    assert.ok(await platform.store.accessTokenOwner(session.access_token), "new token valid");
    assert.equal((await Deno.stat(`${home.path}/credentials.json`)).mode! & 0o777, 0o600);

    const printed = results.map((result) => result.stdout + result.stderr).join("\n");
    assert.match(printed, /debug: POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token → 200/);
    for (
      const secret of [
        before.sessions[0].access_token,
        before.sessions[0].refresh_token,
        session.access_token,
        session.refresh_token,
      ]
    ) {
      assert.equal(printed.includes(secret), false, "a token was printed");
    }

    // The session lives on: another command works without refreshing again…
    const next = await spawnCli(["whoami"], env).result();
    assert.equal(next.code, 0, next.stderr);
    assert.equal(platform.stats().tokenRequests.refresh_token, 1);
    // …and the rotated refresh token still refreshes.
    await expireStoredAccessToken(home.path);
    const refreshedAgain = await spawnCli(["whoami"], env).result();
    assert.equal(refreshedAgain.code, 0, refreshedAgain.stderr);
    assert.equal(platform.stats().tokenRequests.refresh_token, 2);
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
});

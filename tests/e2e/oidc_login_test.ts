/**
 * `cloudsignal login` against an independent, certified OpenID provider (`oidc-provider`,
 * see oidc_support.ts) in headless Chromium: discovery through openid-configuration alone,
 * the scopes asked for, a refresh token only with offline_access, silent refresh, a provider
 * that issues no refresh token (the exact expiry message when the access token runs out), and
 * `--scope` / CLOUDSIGNAL_SCOPE.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import {
  cliEnv,
  expireStoredAccessToken,
  launchBrowser,
  loginUrlOf,
  spawnCli,
} from "../auth/support/login_flow.ts";
import { ACCOUNT, type OidcProvider, signInAtProvider, startOidcProvider } from "./oidc_support.ts";

type Browser = Awaited<ReturnType<typeof launchBrowser>>;

async function withProvider(
  fn: (op: OidcProvider, home: string, browser: Browser) => Promise<void>,
  options: Parameters<typeof startOidcProvider>[0] = {},
) {
  const op = await startOidcProvider(options);
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    await fn(op, home.path, browser);
  } finally {
    await browser.close();
    await op.close();
    await home.cleanup();
  }
}

async function stored(home: string) {
  return JSON.parse(await Deno.readTextFile(`${home}/credentials.json`)).sessions[0];
}

/** Logs in with `args`, signs in and consents at the provider; returns what both saw. */
async function login(
  op: OidcProvider,
  home: string,
  browser: Browser,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
) {
  const cli = spawnCli(["login", "--no-browser", ...args], cliEnv(home, op.apiUrl, extraEnv));
  const url = new URL(await loginUrlOf(cli));
  const seen = await signInAtProvider(browser, url.href);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  assert.match(seen.text, /You are signed in/);
  return { url, seen, result };
}

Deno.test("OpenID provider: openid and offline_access asked, a refresh token, silent refresh", () =>
  withProvider(async (op, home, browser) => {
    const rfc8414 = await fetch(`${op.apiUrl}/.well-known/oauth-authorization-server`);
    await rfc8414.body?.cancel();
    assert.equal(rfc8414.status, 404, "only openid-configuration, like the big providers");

    const { url, seen, result } = await login(op, home, browser);
    assert.equal(url.origin + url.pathname, `${op.apiUrl}/auth`);
    assert.equal(url.searchParams.get("scope"), "openid offline_access");
    assert.equal(url.searchParams.get("prompt"), "consent", "OIDC drops offline_access without it");
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.equal(seen.consented.trim(), "openid offline_access");
    assert.match(result.stderr, /Scope granted: openid offline_access\n/);
    assert.doesNotMatch(result.stderr, /no refresh token/);

    const session = await stored(home);
    assert.equal(session.scope, "openid offline_access");
    assert.equal(typeof session.refresh_token, "string");
    assert.deepEqual(session.organization, ACCOUNT.organization);
    assert.equal(session.user.username, ACCOUNT.username);

    await expireStoredAccessToken(home);
    const who = await spawnCli(["whoami"], cliEnv(home, op.apiUrl)).result();
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^Token expires: in (59|60) minutes$/m);
    assert.deepEqual(op.log.grants, ["authorization_code", "refresh_token"]);
    const refreshed = await stored(home);
    assert.notEqual(refreshed.access_token, session.access_token);
    assert.equal(refreshed.scope, "openid offline_access");

    const logout = await spawnCli(["logout"], cliEnv(home, op.apiUrl)).result();
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stderr, /^Revoked the session at 127\.0\.0\.1:\d+\.$/m);
  }));

Deno.test("OpenID provider without offline_access (CLOUDSIGNAL_SCOPE): no refresh token; the exact expiry message when the token runs out", () =>
  withProvider(async (op, home, browser) => {
    const { url, seen, result } = await login(op, home, browser, [], {
      CLOUDSIGNAL_SCOPE: "openid",
    });
    assert.equal(url.searchParams.get("scope"), "openid");
    assert.equal(url.searchParams.get("prompt"), null);
    assert.equal(seen.consented.trim(), "openid");
    assert.match(
      result.stderr,
      new RegExp(
        "Note: the server issued no refresh token \\(the server offers offline_access: ask for it with --scope to get one\\); " +
          `this session ends when the access token expires\\. Then run \`cloudsignal login --api-url ${op.apiUrl}\` again\\.`,
      ),
    );
    const session = await stored(home);
    assert.equal(session.refresh_token, null);
    assert.equal(session.scope, "openid");

    // Under a minute left, but nothing can renew it: it is used until it expires.
    const who = await spawnCli(["whoami"], cliEnv(home, op.apiUrl)).result();
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^Token expires: in less than a minute$/m);
    const status = await spawnCli(["auth", "status", "--json"], cliEnv(home, op.apiUrl)).result();
    const listed = JSON.parse(status.stdout).sessions[0];
    assert.equal(listed.refreshable, false);
    assert.deepEqual(listed.login_needed, {
      when: "at",
      at: session.access_token_expires_at,
      because: "access_token_expires",
    });

    const left = Date.parse(session.access_token_expires_at) - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, left) + 1000));
    const direct = await fetch(`${op.apiUrl}/v2/me`, {
      headers: { authorization: `Bearer ${session.access_token}` },
    });
    await direct.body?.cancel();
    assert.equal(direct.status, 401, "the provider let the token expire");
    const expired = await spawnCli(["whoami"], cliEnv(home, op.apiUrl)).result();
    assert.equal(expired.code, 4);
    assert.equal(
      expired.stderr,
      `Error: Session expired. Run \`cloudsignal login --api-url ${op.apiUrl}\` again.\n`,
    );
    assert.deepEqual(op.log.grants, ["authorization_code"], "no refresh was attempted");
  }, { accessTokenTtlSeconds: 8 }));

Deno.test("OpenID provider: --scope overrides what is asked; no scope at all is refused by the provider", () =>
  withProvider(async (op, home, browser) => {
    const { url, seen } = await login(op, home, browser, ["--scope", "openid,email"], {
      CLOUDSIGNAL_SCOPE: "openid offline_access",
    });
    assert.equal(url.searchParams.get("scope"), "openid email", "the flag wins over the variable");
    assert.equal(seen.consented.trim(), "openid email");
    const session = await stored(home);
    assert.equal(session.scope, "openid email");
    assert.equal(session.refresh_token, null);

    // What the CLI sent before it asked for scopes: the provider refuses, nothing is stored.
    await Deno.remove(`${home}/credentials.json`);
    const cli = spawnCli(["login", "--no-browser", "--scope", ""], cliEnv(home, op.apiUrl));
    const bare = new URL(await loginUrlOf(cli));
    assert.equal(bare.searchParams.get("scope"), null);
    const page = await browser.context.newPage();
    await page.goto(bare.href);
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/);
    await page.close();
    const refused = await cli.result();
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Error: the authorization server refused the login \(invalid_scope: the authorization request must include a scope\)/,
    );
    await assert.rejects(Deno.stat(`${home}/credentials.json`), Deno.errors.NotFound);

    const bad = await spawnCli(
      ["login", "--no-browser", "--scope", 'openid "x'],
      cliEnv(home, op.apiUrl),
    )
      .result();
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scope: ""x" is not a scope/);
  }));

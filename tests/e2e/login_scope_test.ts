/**
 * Scopes against a real `cloudsignal dev`: the CLI asks for the `openid offline_access` the
 * platform lists and gets a refresh token that renews the session; with `--scope openid` the
 * platform issues none, and the session ends with the exact expiry message.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import { launchBrowser, loginUrlOf, signIn, spawnCli } from "../auth/support/login_flow.ts";
import { childEnv, cli, startDev } from "./auth_support.ts";

async function session(home: string) {
  return JSON.parse(await Deno.readTextFile(`${home}/credentials.json`)).sessions[0];
}

Deno.test("cloudsignal dev: offline_access gives a refresh token that renews; --scope openid gives none", async () => {
  const home = await tempDir();
  const data = await tempDir();
  const browser = await launchBrowser();
  const dev = await startDev(data.path, { args: ["--access-token-ttl", "6"] });
  try {
    const login = async (extra: string[]) => {
      const child = spawnCli(
        ["login", "--api-url", dev.apiUrl, "--no-browser", ...extra],
        childEnv(home.path),
      );
      const url = new URL(await loginUrlOf(child));
      await signIn(browser, url.href);
      const result = await child.result();
      assert.equal(result.code, 0, result.stderr);
      return { url, result };
    };

    const offline = await login([]);
    assert.equal(offline.url.searchParams.get("scope"), "openid offline_access");
    assert.match(offline.result.stderr, /Scope granted: openid offline_access\n/);
    const first = await session(home.path);
    assert.equal(first.scope, "openid offline_access");
    assert.equal(typeof first.refresh_token, "string");
    // A 6-second token always has under a minute left: every command renews it.
    const who = await cli(home.path, ["whoami"]);
    assert.equal(who.code, 0, who.stderr);
    const renewed = await session(home.path);
    assert.notEqual(renewed.refresh_token, first.refresh_token, "refreshed, and rotated");
    assert.equal(renewed.scope, "openid offline_access");

    const online = await login(["--scope", "openid"]);
    assert.equal(online.url.searchParams.get("scope"), "openid");
    assert.match(
      online.result.stderr,
      /Note: the server issued no refresh token \(the server offers offline_access: ask for it with --scope to get one\)/,
    );
    const second = await session(home.path);
    assert.equal(second.refresh_token, null);
    assert.equal(second.scope, "openid");
    const works = await cli(home.path, ["acl", "get"]);
    assert.equal(works.code, 0, "the session works while the token lasts");

    const left = Date.parse(second.access_token_expires_at) - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, left) + 500));
    const expired = await cli(home.path, ["acl", "get"]);
    assert.equal(expired.code, 4);
    assert.equal(
      expired.stderr,
      `Error: Session expired. Run \`cloudsignal login --api-url ${dev.apiUrl}\` again.\n`,
    );
    assert.match(dev.output(), /no refresh token without offline_access/);
  } finally {
    await dev.stop();
    await browser.close();
    await home.cleanup();
    await data.cleanup();
  }
});

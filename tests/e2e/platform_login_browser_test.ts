/**
 * The real login page in headless Chromium: a plain test client starts a PKCE flow with its
 * own loopback callback server, the browser signs in (first with a wrong password), and the
 * client exchanges the code it received for tokens.
 */

import assert from "node:assert/strict";
import { chromium } from "npm:playwright-core@1.65.1";
import {
  api,
  authorizeUrl,
  EMAIL,
  PASSWORD,
  pkce,
  postForm,
  startTestPlatform,
} from "../platform/support.ts";

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

Deno.test("Chromium signs in on the login page; the client's PKCE exchange gets tokens", async () => {
  const t = await startTestPlatform();
  const profile = await Deno.makeTempDir({ prefix: "cloudsignal-chromium-" });
  let received: ((url: URL) => void) | null = null;
  const callback = new Promise<URL>((resolve) => received = resolve);
  const callbackServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      received!(new URL(request.url));
      return new Response("<p>Signed in. You can close this tab.</p>", {
        headers: { "content-type": "text/html" },
      });
    },
  );
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ARGS,
  });
  try {
    const { platform } = t;
    const { verifier, challenge } = await pkce();
    const redirectUri = `http://127.0.0.1:${callbackServer.addr.port}/callback`;
    const state = crypto.randomUUID();
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(authorizeUrl(platform.apiUrl, { challenge, redirectUri, state }));
    assert.equal(await page.title(), "Sign in - CloudSignal");

    await page.fill("#email", EMAIL);
    await page.fill("#password", "not the password");
    await page.click("#sign-in");
    await page.waitForSelector("#login-error");
    assert.equal(await page.textContent("#login-error"), "Wrong email or password.");
    assert.equal(await page.inputValue("#email"), EMAIL);

    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${redirectUri}**`), page.click("#sign-in")]);
    const url = await callback;
    assert.equal(url.searchParams.get("state"), state);
    assert.equal(url.searchParams.get("iss"), platform.apiUrl);
    const code = url.searchParams.get("code");
    assert.ok(code);
    assert.match(await page.textContent("body") ?? "", /Signed in/);

    const tokens = await postForm(`${platform.apiUrl}/oauth/token`, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: "cloudsignal-cli",
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const me = await api(platform.apiUrl, String(tokens.body.access_token), "GET", "/v2/me");
    assert.equal(me.body.email, EMAIL);
    assert.ok(
      t.logs.some((line) => line.startsWith("[oauth] login failed for dev@cloudsignal.local")),
    );
  } finally {
    await context.close();
    await callbackServer.shutdown();
    await t.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
});

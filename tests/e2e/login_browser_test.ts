/**
 * `cloudsignal login`, `whoami` and `logout` end to end: the real CLI as a child process,
 * the local platform, and headless Chromium signing in on the platform's login page.
 */

import assert from "node:assert/strict";
import {
  cliEnv,
  EMAIL,
  launchBrowser,
  loginUrlOf,
  PASSWORD,
  seedSession,
  signIn,
  spawnCli,
  startTestPlatform,
} from "../auth/support/login_flow.ts";
import { tempDir } from "../support/cli.ts";
import { sampleSession } from "../auth/support/sessions.ts";
import { credentialsLocation, updateCredentials, withSession } from "../../src/auth/credentials.ts";

function callbackPort(loginUrl: string): number {
  const redirect = new URL(new URL(loginUrl).searchParams.get("redirect_uri")!);
  assert.equal(redirect.hostname, "127.0.0.1");
  assert.equal(redirect.pathname, "/callback");
  return Number(redirect.port);
}

async function refused(hostname: string, port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname, port })).close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.AddrNotAvailable;
  }
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

function assertNoSecrets(secrets: string[], outputs: string[]): void {
  const all = outputs.join("\n");
  for (const secret of secrets) {
    assert.ok(secret.length >= 16, "a real secret");
    assert.equal(all.includes(secret), false, `a secret (${secret.slice(0, 6)}…) was printed`);
  }
}

Deno.test("login in Chromium → 0600 credentials, whoami shows the seeded user, logout revokes; no token printed", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const { platform } = t;
    const env = cliEnv(home.path, platform.apiUrl);
    const cli = spawnCli(["login", "--no-browser", "--debug"], env);
    const url = await loginUrlOf(cli);
    assert.ok(url.startsWith(`${platform.apiUrl}/oauth/authorize?`));
    const params = new URL(url).searchParams;
    assert.equal(params.get("code_challenge_method"), "S256");
    assert.equal(params.get("client_id"), "cloudsignal-cli");
    assert.match(params.get("state")!, /^[A-Za-z0-9_-]{43}$/);
    const port = callbackPort(url);
    await cli.waitForStderr(/Waiting for the browser sign-in \(times out in 5 minutes\)…\n/);

    // Security: the callback listens on 127.0.0.1 only.
    const others = ["127.0.0.2", "::1", ...Deno.networkInterfaces().map((i) => i.address)]
      .filter((address) => address !== "127.0.0.1" && !address.startsWith("fe80"));
    for (const address of others) {
      assert.equal(await refused(address, port), true, `callback reachable on ${address}`);
    }

    const seen = await signIn(browser, url);
    assert.match(seen.text, /You are signed in/);
    assert.match(seen.text, /You can close this tab/);
    const login = await cli.result();
    assert.equal(login.code, 0, login.stderr);
    assert.match(
      login.stderr,
      new RegExp(
        `Logged in as ada@example\\.com to organization ${platform.organization.name} \\(${platform.organization.id}\\)`,
      ),
    );
    assert.equal(login.stdout, "");

    // One callback only: the server is gone once the login completed.
    const callbackUrl = seen.urls.find((u) => u.startsWith(`http://127.0.0.1:${port}/callback`))!;
    assert.ok(callbackUrl, "the browser went through the callback");
    assert.equal(await refused("127.0.0.1", port), true, "the callback server closed");

    const file = `${home.path}/credentials.json`;
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(home.path), 0o700);
    const stored = JSON.parse(await Deno.readTextFile(file));
    const session = stored.sessions[0];
    assert.equal(stored.current[platform.apiUrl], platform.organization.id);
    assert.equal(session.user.email, "ada@example.com");

    const whoami = await spawnCli(["whoami", "--debug"], env).result();
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(
      whoami.stdout,
      new RegExp(
        `^Email: ada@example\\.com\\nOrganization: ${platform.organization.id}\\nToken expires: in (59|60) minutes\\n` +
          `Organization name: ${platform.organization.name}\\n` +
          `Username: ada \\(MQTT username ada@${platform.organization.short_id}\\)\\n` +
          `API URL: ${platform.apiUrl}\\n$`,
      ),
    );
    assert.match(whoami.stderr, new RegExp(`\\(session from ${file}\\)`));

    const json = await spawnCli(["whoami", "--json"], env).result();
    assert.equal(json.code, 0, json.stderr);
    const who = JSON.parse(json.stdout);
    assert.equal(who.email, "ada@example.com");
    assert.deepEqual(who.organization, platform.organization);
    assert.equal(who.source, "file");
    assert.equal(who.credentials_file, file);

    const logout = await spawnCli(["logout", "--debug"], env).result();
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stderr, /Revoked the session at 127\.0\.0\.1:\d+\./);
    assert.match(logout.stderr, /Removed .*credentials\.json\./);
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
    // The refresh token is dead at the server.
    const reuse = await fetch(`${platform.apiUrl}/oauth/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: session.refresh_token,
        client_id: "cloudsignal-cli",
      }),
    });
    assert.equal(reuse.status, 400);
    assert.equal((await reuse.json()).error, "invalid_grant");

    const after = await spawnCli(["whoami"], env).result();
    assert.equal(after.code, 4);
    assert.match(after.stderr, /^Error: Not logged in to .*Run `cloudsignal login/);

    const code = new URL(callbackUrl).searchParams.get("code")!;
    assertNoSecrets(
      [session.access_token, session.refresh_token, code],
      [
        login.stdout,
        login.stderr,
        whoami.stdout,
        whoami.stderr,
        json.stdout,
        json.stderr,
        logout.stdout,
        logout.stderr,
        after.stderr,
      ],
    );
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
});

Deno.test("a callback with a wrong state is refused with a page; the login still completes", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const env = cliEnv(home.path, t.platform.apiUrl);
    const cli = spawnCli(["login", "--no-browser"], env);
    const url = await loginUrlOf(cli);
    const port = callbackPort(url);
    const forged = await fetch(
      `http://127.0.0.1:${port}/callback?code=forged-code&state=not-the-state`,
    );
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /does not match the login in progress/);
    await cli.waitForStderr(/Warning: refused a callback with a state that does not match/);

    const seen = await signIn(browser, url);
    assert.match(seen.text, /You are signed in/);
    const result = await cli.result();
    assert.equal(result.code, 0, result.stderr);
    await Deno.stat(`${home.path}/credentials.json`);
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
});

Deno.test("headless fallback: the callback address, opened elsewhere with curl, completes the login", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const env = cliEnv(home.path, t.platform.apiUrl);
    const cli = spawnCli(["login", "--no-browser"], env);
    const url = await loginUrlOf(cli);
    // The browser runs on another machine: its request to 127.0.0.1 is refused there, and
    // the user copies the address from its error page. (Chromium's own request interception:
    // Playwright's page.route is not called for a redirect's target.)
    const page = await browser.context.newPage();
    const devtools = await browser.context.newCDPSession(page);
    const copied = Promise.withResolvers<string>();
    devtools.on("Fetch.requestPaused", (event) => {
      copied.resolve(event.request.url);
      devtools.send("Fetch.failRequest", {
        requestId: event.requestId,
        errorReason: "ConnectionRefused",
      }).catch(copied.reject);
    });
    await devtools.send("Fetch.enable", {
      patterns: [{ urlPattern: "http://127.0.0.1:*/callback*" }],
    });
    await page.goto(url);
    await page.fill("input[type=email]", EMAIL);
    await page.fill("input[type=password]", PASSWORD);
    await page.click("button[type=submit]");
    // Bounded by Playwright's timeout: the refused request shows the browser's error page.
    await page.waitForURL(/^chrome-error:/);
    const address = await copied.promise;
    await page.close();
    assert.match(address, /\/callback\?code=.+&state=/);
    // What `curl '<address>'` does on the machine where login waits.
    const answer = await fetch(address);
    assert.equal(answer.status, 200);
    assert.match(await answer.text(), /You are signed in/);
    const result = await cli.result();
    assert.equal(result.code, 0, result.stderr);
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
});

Deno.test("access denied in the browser: a clear page, exit 4, nothing stored", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const env = cliEnv(home.path, t.platform.apiUrl);
    const cli = spawnCli(["login", "--no-browser"], env);
    const url = await loginUrlOf(cli);
    const seen = await signIn(browser, url, { deny: true });
    assert.match(seen.text, /Sign-in was cancelled/);
    const result = await cli.result();
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      /Error: Login was denied in the browser \(access_denied\); nothing was stored\./,
    );
    await assert.rejects(Deno.stat(`${home.path}/credentials.json`), Deno.errors.NotFound);
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
});

Deno.test("an error redirect from the authorization server ends the login with its text, escaped", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const cli = spawnCli(["login", "--no-browser"], cliEnv(home.path, t.platform.apiUrl));
    const url = new URL(await loginUrlOf(cli));
    // What a server sends on failure (RFC 6749 4.1.2.1), with the request's own state.
    const callback = new URL(url.searchParams.get("redirect_uri")!);
    callback.searchParams.set("error", "server_error");
    callback.searchParams.set("error_description", "<script>alert(1)</script> broke");
    callback.searchParams.set("state", url.searchParams.get("state")!);
    const page = await fetch(callback);
    assert.equal(page.status, 400);
    const html = await page.text();
    assert.match(html, /Sign-in failed/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; broke/);
    assert.doesNotMatch(html, /<script>/);
    const result = await cli.result();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Error: the authorization server refused the login \(server_error: <script>alert\(1\)<\/script> broke\)\n$/,
    );
    await assert.rejects(Deno.stat(`${home.path}/credentials.json`), Deno.errors.NotFound);
  } finally {
    await t.close();
    await home.cleanup();
  }
});

Deno.test("no sign-in in time: Login timed out, non-zero exit, callback closed, nothing stored", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const env = cliEnv(home.path, t.platform.apiUrl, { CLOUDSIGNAL_LOGIN_TIMEOUT: "1" });
    const cli = spawnCli(["login", "--no-browser"], env);
    const port = callbackPort(await loginUrlOf(cli));
    const result = await cli.result();
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Waiting for the browser sign-in \(times out in 1 second\)…/);
    assert.match(
      result.stderr,
      new RegExp(
        "\nError: Login timed out\nNo sign-in arrived within 1 second\\. " +
          `Run \`cloudsignal login --api-url ${t.platform.apiUrl}\` to try again\\.\n$`,
      ),
    );
    assert.equal(await refused("127.0.0.1", port), true);
    await assert.rejects(Deno.stat(`${home.path}/credentials.json`), Deno.errors.NotFound);
  } finally {
    await t.close();
    await home.cleanup();
  }
});

Deno.test("Ctrl+C ends the wait cleanly: exit 130, callback closed, nothing stored", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const cli = spawnCli(["login", "--no-browser"], cliEnv(home.path, t.platform.apiUrl));
    const port = callbackPort(await loginUrlOf(cli));
    await cli.waitForStderr(/Waiting for the browser sign-in/);
    cli.child.kill("SIGINT");
    const result = await cli.result();
    assert.equal(result.code, 130);
    assert.match(result.stderr, /Login cancelled; nothing was stored\.\n$/);
    assert.doesNotMatch(result.stderr, /unexpected|stack/i);
    assert.equal(await refused("127.0.0.1", port), true);
    await assert.rejects(Deno.stat(`${home.path}/credentials.json`), Deno.errors.NotFound);
  } finally {
    await t.close();
    await home.cleanup();
  }
});

Deno.test("the URL is printed, then BROWSER opens it; --no-browser only prints", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  const browser = await launchBrowser();
  try {
    const record = `${home.path}/opened-url`;
    const script = `${home.path}/browser.sh`;
    await Deno.writeTextFile(script, `#!/bin/sh\nprintf '%s' "$1" >> '${record}'\n`);
    await Deno.chmod(script, 0o755);
    const env = cliEnv(`${home.path}/cs`, t.platform.apiUrl, { BROWSER: script });

    const noBrowser = spawnCli(["login", "--no-browser"], {
      ...env,
      CLOUDSIGNAL_LOGIN_TIMEOUT: "1",
    });
    await loginUrlOf(noBrowser);
    assert.equal((await noBrowser.result()).code, 1);
    await assert.rejects(Deno.stat(record), Deno.errors.NotFound, "--no-browser opened one");

    const cli = spawnCli(["login"], env);
    const printed = await loginUrlOf(cli);
    for (let i = 0; i < 600; i++) {
      if (await Deno.stat(record).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await Deno.readTextFile(record), printed);
    const seen = await signIn(browser, await Deno.readTextFile(record));
    assert.match(seen.text, /You are signed in/);
    const result = await cli.result();
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /Could not open a browser/);
  } finally {
    await browser.close();
    await t.close();
    await home.cleanup();
  }
});

Deno.test("a browser that cannot start is not an error: the URL stays usable", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const env = cliEnv(home.path, t.platform.apiUrl, {
      BROWSER: `${home.path}/no-such-browser`,
      PATH: "/nonexistent",
      CLOUDSIGNAL_LOGIN_TIMEOUT: "20",
    });
    const cli = spawnCli(["login"], env);
    await loginUrlOf(cli);
    await cli.waitForStderr(
      /Could not open a browser \(.*no-such-browser: not found.*\); open the URL above yourself\./,
    );
    cli.child.kill("SIGINT");
    assert.equal((await cli.result()).code, 130);
  } finally {
    await t.close();
    await home.cleanup();
  }
});

Deno.test("CLOUDSIGNAL_TOKEN: whoami uses it and never writes; login refuses; logout warns", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const { platform } = t;
    const pair = await platform.store.createSession(platform.user.id, "cloudsignal-cli", {
      accessTtlSeconds: 1800,
      refreshTtlSeconds: 3600,
    });
    const csHome = `${home.path}/cs`;
    const env = cliEnv(csHome, platform.apiUrl, { CLOUDSIGNAL_TOKEN: pair.access_token });
    const whoami = await spawnCli(["whoami", "--debug"], env).result();
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(
      whoami.stdout,
      /^Email: ada@example\.com\nOrganization: .+\nToken expires: unknown\nOrganization name: /,
    );
    assert.match(whoami.stderr, /\(session from CLOUDSIGNAL_TOKEN\)/);
    const json = await spawnCli(["whoami", "--json"], env).result();
    assert.equal(JSON.parse(json.stdout).source, "env");
    assert.equal(JSON.parse(json.stdout).credentials_file, null);

    const login = await spawnCli(["login"], env).result();
    assert.equal(login.code, 1);
    assert.match(login.stderr, /^Error: CLOUDSIGNAL_TOKEN is set/);
    assert.doesNotMatch(login.stderr, /open this URL/);

    const logout = await spawnCli(["logout"], env).result();
    assert.equal(logout.code, 0);
    assert.match(logout.stderr, /Warning: CLOUDSIGNAL_TOKEN is still set/);
    await assert.rejects(Deno.stat(csHome), Deno.errors.NotFound, "nothing written to disk");

    await platform.store.revokeToken(pair.access_token);
    const rejected = await spawnCli(["whoami"], env).result();
    assert.equal(rejected.code, 4);
    assert.match(rejected.stderr, /^Error: the server rejected the token in CLOUDSIGNAL_TOKEN/);
    assertNoSecrets([pair.access_token], [
      whoami.stdout,
      whoami.stderr,
      json.stdout,
      login.stderr,
      logout.stderr,
      rejected.stderr,
    ]);
  } finally {
    await t.close();
    await home.cleanup();
  }
});

Deno.test("a session that is over fails closed: the message names --api-url, exit 4", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const session = await seedSession(t.platform, home.path, -5);
    await t.platform.store.revokeToken(session.refresh_token!);
    const result = await spawnCli(["whoami"], cliEnv(home.path, t.platform.apiUrl)).result();
    assert.equal(result.code, 4);
    assert.equal(
      result.stderr,
      `Error: Session expired. Run \`cloudsignal login --api-url ${t.platform.apiUrl}\` again.\n`,
    );
    assert.equal(result.stdout, "");
  } finally {
    await t.close();
    await home.cleanup();
  }
});

Deno.test("the default API's session is over: exactly the documented line, exit 4", async () => {
  const home = await tempDir();
  try {
    // No refresh token and an expired access token: decided without asking the server.
    await updateCredentials(credentialsLocation(home.path), (file) => ({
      write: withSession(
        file,
        sampleSession({
          api_url: "https://api.cloudsignal.io",
          refresh_token: null,
          access_token_expires_at: new Date(Date.now() - 1000).toISOString(),
        }),
        true,
      ),
      result: 0,
    }));
    const env = cliEnv(home.path, "https://api.cloudsignal.io");
    delete env.CLOUDSIGNAL_API_URL;
    for (const args of [["whoami"], ["acl", "get"], ["auth", "token"]]) {
      const result = await spawnCli(args, env).result();
      assert.equal(result.code, 4);
      assert.equal(result.stderr, "Error: Session expired. Run `cloudsignal login` again.\n");
      assert.equal(result.stdout, "");
    }
  } finally {
    await home.cleanup();
  }
});

Deno.test("not logged in: whoami exits 4 and says to run cloudsignal login", async () => {
  const home = await tempDir();
  try {
    const result = await spawnCli(["whoami"], cliEnv(home.path, "http://127.0.0.1:9")).result();
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      /^Error: Not logged in to http:\/\/127\.0\.0\.1:9\. Run `cloudsignal login/,
    );
  } finally {
    await home.cleanup();
  }
});

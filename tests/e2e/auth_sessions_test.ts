/**
 * Sessions against real `cloudsignal dev` platforms and a real browser: `login` makes its
 * session current and later commands use it without `--api-url`; `--api-url` and
 * CLOUDSIGNAL_API_URL still override; `auth status` and `auth switch`; `dev --reset` gives a
 * "log in again" message naming `--api-url` that works as printed; `logout` never makes a
 * session current that its server says is over.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import { launchBrowser, loginUrlOf, signIn, spawnCli } from "../auth/support/login_flow.ts";
import { childEnv, cli, type DevPlatform, startDev } from "./auth_support.ts";
import type { CliResult } from "../support/cli.ts";

type Browser = Awaited<ReturnType<typeof launchBrowser>>;

/** Runs `cloudsignal <args> --no-browser` (a login) and signs in with Chromium. */
async function login(browser: Browser, home: string, args: string[]): Promise<CliResult> {
  const child = spawnCli([...args, "--no-browser"], childEnv(home));
  await signIn(browser, await loginUrlOf(child));
  const result = await child.result();
  assert.equal(result.code, 0, result.stderr);
  return result;
}

async function withDirs(
  fn: (dirs: { home: string; data: string[] }, browser: Browser) => Promise<void>,
  platforms = 1,
): Promise<void> {
  const home = await tempDir();
  const data = await Promise.all(Array.from({ length: platforms }, () => tempDir()));
  const browser = await launchBrowser();
  try {
    await fn({ home: home.path, data: data.map((dir) => dir.path) }, browser);
  } finally {
    await browser.close();
    await home.cleanup();
    for (const dir of data) await dir.cleanup();
  }
}

function field(stdout: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*)$`, "m").exec(stdout)?.[1];
}

async function stored(home: string) {
  return JSON.parse(await Deno.readTextFile(`${home}/credentials.json`));
}

Deno.test("after `cloudsignal dev` and the login line it prints, commands without --api-url use that session", () =>
  withDirs(async ({ home, data }, browser) => {
    const dev = await startDev(data[0]);
    try {
      const { info } = dev;
      const loggedIn = await login(browser, home, ["login", "--api-url", dev.apiUrl]);
      assert.match(loggedIn.stderr, /it is now the current session/);
      assert.match(loggedIn.stderr, /Scope granted: openid offline_access/);

      const who = await cli(home, ["whoami"]);
      assert.equal(who.code, 0, who.stderr);
      const lines = who.stdout.split("\n");
      assert.equal(lines[0], `Email: ${info.user.email}`);
      assert.equal(lines[1], `Organization: ${info.organization.id}`);
      assert.match(lines[2], /^Token expires: in (59|60) minutes$/);
      assert.equal(field(who.stdout, "Organization name"), "Development");
      assert.equal(
        field(who.stdout, "Username"),
        `${info.user.username} (MQTT username ${info.user.username}@${info.organization.short_id})`,
      );
      assert.equal(field(who.stdout, "API URL"), dev.apiUrl);

      const get = await cli(home, ["acl", "get"]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(JSON.parse(get.stdout).version, "2.2");

      const status = await cli(home, ["auth", "status", "--json"]);
      assert.equal(status.code, 0, status.stderr);
      const [session, ...others] = JSON.parse(status.stdout).sessions;
      assert.equal(others.length, 0);
      assert.equal(session.api_url, dev.apiUrl);
      assert.deepEqual(session.organization, info.organization);
      assert.equal(session.email, info.user.email);
      assert.equal(session.username, info.user.username);
      assert.equal(session.current, true);
      assert.equal(session.source, "stored");
      assert.equal(session.refreshable, true);
      assert.equal(session.scope, "openid offline_access");
      assert.equal(session.login_needed.because, "refresh_token_expires");
      assert.equal(session.login_command, `cloudsignal login --api-url ${dev.apiUrl}`);

      // --api-url and CLOUDSIGNAL_API_URL still decide, and the message names the flag.
      const other = "http://127.0.0.1:9";
      for (
        const result of [
          await cli(home, ["whoami", "--api-url", other]),
          await cli(home, ["whoami"], { CLOUDSIGNAL_API_URL: other }),
        ]
      ) {
        assert.equal(result.code, 4);
        assert.match(
          result.stderr,
          /^Error: Not logged in to http:\/\/127\.0\.0\.1:9\. Run `cloudsignal login --api-url http:\/\/127\.0\.0\.1:9` first/,
        );
        assert.match(result.stderr, new RegExp(`Stored sessions:\\n  ${dev.apiUrl}  Development`));
      }
    } finally {
      await dev.stop();
    }
  }));

Deno.test("two platforms: the last login is current; --api-url, CLOUDSIGNAL_API_URL and auth switch choose", () =>
  withDirs(async ({ home, data }, browser) => {
    const a = await startDev(data[0]);
    const b = await startDev(data[1]);
    let aStopped = false;
    try {
      await login(browser, home, ["login", "--api-url", a.apiUrl]);
      await login(browser, home, ["login", "--api-url", b.apiUrl]);
      const org = async (args: string[], extra: Record<string, string> = {}) => {
        const result = await cli(home, ["whoami", ...args], extra);
        assert.equal(result.code, 0, result.stderr);
        return field(result.stdout, "Organization");
      };
      const idA = a.info.organization.id;
      const idB = b.info.organization.id;
      assert.equal(await org([]), idB, "the last login is current");
      assert.equal(await org(["--api-url", a.apiUrl]), idA);
      assert.equal(await org([], { CLOUDSIGNAL_API_URL: a.apiUrl }), idA);

      const switched = await cli(home, ["auth", "switch", "--api-url", a.apiUrl]);
      assert.equal(switched.code, 0, switched.stderr);
      assert.equal(
        switched.stderr,
        `Current session: Development (${idA}) at ${a.apiUrl} as ada@example.com.\n`,
      );
      assert.equal(await org([]), idA);
      const toOther = await cli(home, ["auth", "switch", "--json"]);
      assert.equal(toOther.code, 0, toOther.stderr);
      assert.equal(JSON.parse(toOther.stdout).session.api_url, b.apiUrl, "the other of two");
      assert.equal(JSON.parse(toOther.stdout).check.state, "valid");
      assert.equal(await org([]), idB);

      // Both organizations are named "Development": without a terminal, a clear error.
      const ambiguous = await cli(home, ["auth", "switch", "--org", "development"]);
      assert.equal(ambiguous.code, 2, ambiguous.stderr);
      assert.match(ambiguous.stderr, /^Error: 2 stored sessions match; say which one\n/);
      for (const dev of [a, b]) {
        assert.ok(
          ambiguous.stderr.includes(
            `cloudsignal auth switch --api-url ${dev.apiUrl} --org ${dev.info.organization.id}`,
          ),
          ambiguous.stderr,
        );
      }
      assert.equal(await org([]), idB, "nothing changed");
      const byShortId = await cli(home, ["auth", "switch", "--org", a.info.organization.short_id]);
      assert.equal(byShortId.code, 0, byShortId.stderr);
      assert.equal(await org([]), idA);
      const none = await cli(home, ["auth", "switch", "--org", "nope"]);
      assert.equal(none.code, 1);
      assert.match(
        none.stderr,
        /^Error: No stored session matches organization "nope"\.\nStored sessions:\n/,
      );

      // Logging out of A does not silently move commands to B's API.
      const logout = await cli(home, ["logout", "--json"]);
      assert.equal(logout.code, 0, logout.stderr);
      assert.match(
        logout.stderr,
        new RegExp(
          `No session is current now\\. Stored sessions:\\n  Development \\(${idB}\\) at ${b.apiUrl}`,
        ),
      );
      assert.equal(JSON.parse(logout.stdout).now_current, null);
      const after = await cli(home, ["whoami"]);
      assert.equal(after.code, 4);
      assert.match(
        after.stderr,
        new RegExp(
          `Not logged in to ${a.apiUrl}\\. Run \`cloudsignal login --api-url ${a.apiUrl}\``,
        ),
      );
      assert.match(after.stderr, /Use one with `cloudsignal auth switch`/);

      // A server that cannot be reached cannot confirm the switch: done, with a warning.
      await login(browser, home, ["login", "--api-url", a.apiUrl]);
      await a.stop();
      aStopped = true;
      const toB = await cli(home, ["auth", "switch", "--api-url", b.apiUrl]);
      assert.equal(toB.code, 0, toB.stderr);
      const toDeadA = await cli(home, ["auth", "switch", "--api-url", a.apiUrl]);
      assert.equal(toDeadA.code, 0, toDeadA.stderr);
      assert.match(
        toDeadA.stderr,
        /Warning: its server could not confirm the session \(cannot reach/,
      );
      assert.equal((await stored(home)).current_api_url, a.apiUrl);
    } finally {
      if (!aStopped) await a.stop();
      await b.stop();
    }
  }, 2));

Deno.test("dev --reset: the expiry message names --api-url and works as printed; logout skips the deleted organization", () =>
  withDirs(async ({ home, data }, browser) => {
    let dev: DevPlatform = await startDev(data[0]);
    try {
      await login(browser, home, ["login", "--api-url", dev.apiUrl]);
      const apiUrl = dev.apiUrl;
      const before = dev.info.organization;
      await dev.stop();
      dev = await startDev(data[0], { apiPort: Number(new URL(apiUrl).port), reset: true });
      assert.equal(dev.apiUrl, apiUrl);
      assert.notEqual(dev.info.organization.id, before.id);
      assert.equal(dev.info.organization.name, before.name, "both are named Development");

      const expired = await cli(home, ["whoami"]);
      assert.equal(expired.code, 4);
      assert.equal(
        expired.stderr,
        `Error: Session expired. Run \`cloudsignal login --api-url ${apiUrl}\` again.\n`,
      );
      // Followed literally, it logs in to the same platform.
      const printed = /Run `cloudsignal ([^`]+)` again/.exec(expired.stderr)![1].split(" ");
      await login(browser, home, printed);
      const who = await cli(home, ["whoami"]);
      assert.equal(who.code, 0, who.stderr);
      assert.equal(field(who.stdout, "Organization"), dev.info.organization.id);

      const status = JSON.parse((await cli(home, ["auth", "status", "--json", "--check"])).stdout);
      const byId = (id: string) =>
        status.sessions.find((s: { organization: { id: string } }) => s.organization.id === id);
      assert.equal(byId(before.id).check.state, "gone");
      assert.equal(byId(before.id).current, false);
      assert.equal(byId(dev.info.organization.id).check.state, "valid");
      assert.equal(byId(dev.info.organization.id).current, true);

      const logout = await cli(home, ["logout"]);
      assert.equal(logout.code, 0, logout.stderr);
      assert.match(
        logout.stderr,
        new RegExp(
          `Not switching to Development \\(${before.id}\\) at ${apiUrl} as ada@example\\.com; its server says it is over`,
        ),
      );
      assert.match(
        logout.stderr,
        new RegExp(
          `No session is current now\\. Log in with \`cloudsignal login --api-url ${apiUrl}\`\\.\\n`,
        ),
      );
      assert.doesNotMatch(logout.stderr, /Now current/);
      const after = await cli(home, ["whoami"]);
      assert.equal(after.code, 4);
      assert.match(after.stderr, new RegExp(`^Error: Not logged in to ${apiUrl}\\.`));
      const file = await stored(home);
      assert.equal(file.sessions.length, 1, "the dead session stays until removed");
      assert.equal(file.current[apiUrl], undefined);

      const dead = await cli(home, ["auth", "switch", "--org", before.id]);
      assert.equal(dead.code, 4);
      assert.match(dead.stderr, /^Error: The server no longer accepts the session of Development/);
      assert.ok(dead.stderr.includes(`cloudsignal logout --api-url ${apiUrl} --org ${before.id}`));
      const removed = await cli(home, ["logout", "--org", before.id]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(
        removed.stderr,
        new RegExp(`Logged out ada@example\\.com from organization Development \\(${before.id}\\)`),
      );
      await assert.rejects(Deno.stat(`${home}/credentials.json`), Deno.errors.NotFound);
    } finally {
      await dev.stop();
    }
  }));

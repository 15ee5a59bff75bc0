/**
 * `cloudsignal auth token` against a real `cloudsignal dev`: it prints the current access
 * token (refreshed first when it is about to expire), the broker accepts it as an MQTT
 * password, and no other command, `--debug` line or platform log line ever shows a token.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import {
  expireStoredAccessToken,
  launchBrowser,
  loginUrlOf,
  signIn,
  spawnCli,
} from "../auth/support/login_flow.ts";
import { connect } from "../platform/mqtt_support.ts";
import { childEnv, cli, startDev } from "./auth_support.ts";
import type { CliResult } from "../support/cli.ts";

interface Stored {
  sessions: { access_token: string; refresh_token: string | null }[];
}

async function tokensIn(home: string): Promise<string[]> {
  try {
    const file = JSON.parse(await Deno.readTextFile(`${home}/credentials.json`)) as Stored;
    return file.sessions.flatMap((s) => [s.access_token, s.refresh_token ?? ""]).filter(Boolean);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

Deno.test("auth token: the current access token, refreshed first; an MQTT password; the only command that prints one", async () => {
  const home = await tempDir();
  const data = await tempDir();
  const browser = await launchBrowser();
  const dev = await startDev(data.path);
  const secrets = new Set<string>();
  const outputs: { what: string; text: string }[] = [];
  const record = async (what: string, run: Promise<CliResult>) => {
    const result = await run;
    outputs.push({ what, text: `${result.stdout}\n${result.stderr}` });
    for (const token of await tokensIn(home.path)) secrets.add(token);
    return result;
  };
  try {
    const login = spawnCli(
      ["login", "--api-url", dev.apiUrl, "--no-browser", "--debug"],
      childEnv(home.path),
    );
    await signIn(browser, await loginUrlOf(login));
    assert.equal((await record("login", login.result())).code, 0);

    const [before] = await tokensIn(home.path);
    await expireStoredAccessToken(home.path);
    const printed = await record("auth token", cli(home.path, ["auth", "token", "--debug"]));
    assert.equal(printed.code, 0, printed.stderr);
    const token = printed.stdout.trimEnd();
    assert.equal(printed.stdout, `${token}\n`, "the token alone on stdout");
    assert.notEqual(token, before, "refreshed first");
    assert.equal((await tokensIn(home.path))[0], token, "the one now stored");
    outputs.pop(); // the one place a token is expected

    const username = `${dev.info.user.username}@${dev.info.organization.short_id}`;
    const client = await connect(dev.info.mqtt_url, username, token, "auth-token-test");
    assert.equal(client.connected, true, "the broker accepts it as the MQTT password");
    await client.endAsync();
    await assert.rejects(
      connect(dev.info.mqtt_url, username, `${token}x`, "auth-token-wrong"),
      /Not authorized|Bad username or password/,
    );

    const again = await cli(home.path, ["auth", "token"]);
    assert.equal(again.stdout.trimEnd(), token, "a fresh token is printed as is");

    for (
      const args of [
        ["whoami", "--debug"],
        ["whoami", "--json", "--debug"],
        ["auth", "status", "--debug"],
        ["auth", "status", "--json", "--check", "--debug"],
        ["auth", "switch", "--debug"],
        ["acl", "get", "--debug"],
        ["acl", "revisions", "--debug"],
        ["user", "claims", "show", dev.info.user.username, "--debug"],
      ]
    ) {
      await expireStoredAccessToken(home.path); // every command refreshes, and could leak
      await record(args.join(" "), cli(home.path, args));
    }
    await record(
      "whoami with CLOUDSIGNAL_TOKEN",
      cli(home.path, ["whoami", "--debug"], {
        CLOUDSIGNAL_TOKEN: token,
        CLOUDSIGNAL_API_URL: dev.apiUrl,
      }),
    );
    const fromEnv = await cli(home.path, ["auth", "token"], { CLOUDSIGNAL_TOKEN: "from-the-env" });
    assert.equal(fromEnv.stdout, "from-the-env\n", "CLOUDSIGNAL_TOKEN is what commands use");
    await record("logout", cli(home.path, ["logout", "--json", "--debug"]));
    const gone = await cli(home.path, ["auth", "token"]);
    assert.equal(gone.code, 4);
    assert.equal(gone.stdout, "");

    await dev.stop();
    outputs.push({ what: "cloudsignal dev", text: dev.output() });
    assert.ok(secrets.size >= 10, `many tokens were issued (${secrets.size})`);
    for (const { what, text } of outputs) {
      for (const secret of secrets) {
        assert.equal(text.includes(secret), false, `${what} printed a token`);
      }
    }
  } finally {
    await dev.stop();
    await browser.close();
    await home.cleanup();
    await data.cleanup();
  }
});

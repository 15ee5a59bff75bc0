/**
 * `cloudsignal dev` as a user runs it: what it prints, a clean stop on SIGTERM, usage errors,
 * and data that survives a SIGKILL and a restart.
 */

import assert from "node:assert/strict";
import { MAIN, runCli, tempDir } from "../support/cli.ts";
import { api, login, postForm } from "../platform/support.ts";

interface DevProcess {
  child: Deno.ChildProcess;
  /** Everything printed on stdout until the platform was ready. */
  stdout: string;
  stderr: () => string;
  /** The exit status, once stderr has been read to its end too. */
  exited: () => Promise<Deno.CommandStatus>;
}

async function startDev(args: string[]): Promise<DevProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "dev", "--api-port", "0", "--mqtt-port", "0", ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrRead = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  while (!/Press Ctrl\+C to stop\.|^\{.*\}\n/m.test(stdout)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`cloudsignal dev ended early:\n${stdout}\n${stderr}`);
    stdout += value;
  }
  clearTimeout(guard);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const exited = async () => {
    const status = await child.status;
    await stderrRead;
    return status;
  };
  return { child, stdout, stderr: () => stderr, exited };
}

function field(stdout: string, name: string): string {
  const match = new RegExp(`^  ${name}:\\s+(.*)$`, "m").exec(stdout);
  if (!match) throw new Error(`no ${name} line in:\n${stdout}`);
  return match[1];
}

Deno.test("cloudsignal dev prints how to use it and stops cleanly on SIGTERM", async () => {
  const dir = await tempDir();
  try {
    const dev = await startDev(["--data-dir", dir.path]);
    const apiUrl = field(dev.stdout, "API");
    const mqttUrl = field(dev.stdout, "MQTT");
    assert.match(apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(mqttUrl, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    assert.match(dev.stdout, new RegExp(`^  cloudsignal login --api-url ${apiUrl}$`, "m"));
    assert.match(
      field(dev.stdout, "Organization"),
      /^Development \(id [0-9a-f-]{36}, short id [a-z0-9]{8}\)$/,
    );
    assert.match(
      field(dev.stdout, "User"),
      /^dev@cloudsignal\.local \(MQTT username dev@[a-z0-9]{8}\)$/,
    );
    const password = field(dev.stdout, "Password");
    assert.match(password, /^[a-z0-9]{5}(-[a-z0-9]{5}){3}$/, "a generated password");

    const tokens = await login(apiUrl, { password });
    assert.equal((await api(apiUrl, tokens.access_token, "GET", "/v2/me")).status, 200);
    dev.child.kill("SIGTERM");
    const status = await dev.exited();
    assert.equal(status.code, 0);
    assert.match(dev.stderr(), /development platform .*No TLS; it listens on 127\.0\.0\.1 only/);
    assert.match(dev.stderr(), /SIGTERM: stopping the platform/);
    assert.match(dev.stderr(), /stopped\n$/);
    assert.ok(!dev.stderr().includes(tokens.access_token), "no token in the log");
    await assert.rejects(fetch(`${apiUrl}/v2/me`), "the API is down");
  } finally {
    await dir.cleanup();
  }
});

Deno.test("cloudsignal dev: data survives SIGKILL and a restart", async () => {
  const dir = await tempDir();
  try {
    const first = await startDev([
      "--data-dir",
      dir.path,
      "--password",
      "first-password",
      "--json",
    ]);
    const info = JSON.parse(first.stdout.trim());
    assert.equal(info.user.password, "first-password");
    const tokens = await login(info.api_url, { password: "first-password" });
    const policy = { version: "2.2", default: "deny", global: [{ topic: "a/#", action: "sub" }] };
    const put = await api(info.api_url, tokens.access_token, "PUT", "/v2/acl/policy", policy, {
      "if-match": '"1"',
    });
    assert.equal(put.status, 200);
    const claim = await api(info.api_url, tokens.access_token, "PUT", "/v2/users/dev/claims/team", {
      value: "blue",
    });
    assert.equal(claim.status, 200);
    first.child.kill("SIGKILL");
    await first.child.status;

    const second = await startDev(["--data-dir", dir.path, "--json"]);
    try {
      const again = JSON.parse(second.stdout.trim());
      assert.deepEqual(again.organization, info.organization);
      assert.equal(again.user.id, info.user.id);
      assert.equal(again.user.password, null, "the existing user keeps its password");
      const me = await api(again.api_url, tokens.access_token, "GET", "/v2/me");
      assert.equal(me.status, 200, "sessions survive the restart");
      const stored = await api(again.api_url, tokens.access_token, "GET", "/v2/acl/policy");
      assert.equal(stored.headers.get("etag"), '"2"');
      assert.deepEqual(stored.body, policy);
      const claims = await api(again.api_url, tokens.access_token, "GET", "/v2/users/dev/claims");
      assert.deepEqual(claims.body.claims, { team: "blue" });
      const refreshed = await postForm(`${again.api_url}/oauth/token`, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: "cloudsignal-cli",
      });
      assert.equal(refreshed.status, 200);
      await login(again.api_url, { password: "first-password" });
    } finally {
      second.child.kill("SIGINT");
      assert.equal((await second.child.status).code, 0, "Ctrl+C stops it cleanly");
    }
  } finally {
    await dir.cleanup();
  }
});

Deno.test("cloudsignal dev: bad flags are usage errors (exit 2)", async () => {
  for (
    const [args, message] of [
      [["--api-port", "http"], /--api-port must be a port number from 0 to 65535 \(got "http"\)/],
      [["--mqtt-port", "70000"], /--mqtt-port must be a port number/],
      [["--access-token-ttl", "0"], /--access-token-ttl must be a whole number of seconds/],
      [["--email", "nobody"], /--email must be an email address/],
      [["--password", "short"], /--password must have at least 8 characters/],
    ] as const
  ) {
    const result = await runCli(["dev", "--data-dir", "/nonexistent/never-created", ...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  }
});

Deno.test("cloudsignal dev: a port in use is a clear error", async () => {
  const dir = await tempDir();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (blocker.addr as Deno.NetAddr).port;
    const result = await runCli([
      "dev",
      "--data-dir",
      dir.path,
      "--api-port",
      String(port),
      "--mqtt-port",
      "0",
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`Error: port ${port} \\(--api-port\\) is already in use`),
    );
    assert.match(result.stderr, /--api-port 0 picks a free one/);
  } finally {
    blocker.close();
    await dir.cleanup();
  }
});

Deno.test("cloudsignal dev: an unreadable database is an error; --reset starts over", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/platform.sqlite3`, "not a database ".repeat(100));
    const args = ["dev", "--data-dir", dir.path, "--api-port", "0", "--mqtt-port", "0"];
    const broken = await runCli(args);
    assert.equal(broken.code, 1);
    assert.match(
      broken.stderr,
      /Error: cannot open the platform database in .*: file is not a database/,
    );
    assert.match(broken.stderr, /use --reset to start over/);
    const dev = await startDev(["--data-dir", dir.path, "--reset", "--json"]);
    assert.equal(JSON.parse(dev.stdout.trim()).organization.name, "Development");
    dev.child.kill("SIGTERM");
    assert.equal((await dev.child.status).code, 0);
  } finally {
    await dir.cleanup();
  }
});

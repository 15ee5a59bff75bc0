import assert from "node:assert/strict";
import { formatDuration, loginTimeoutSeconds, parsePort } from "../../src/auth/login.ts";
import { runLogin } from "../../src/commands/auth/login.ts";
import { OperationError, UsageError } from "../../src/core/errors.ts";
import { recordingIo } from "../../src/cli/io.ts";
import { cliContext } from "../../src/cli/program.ts";
import { tempDir } from "../support/cli.ts";
import { startTestPlatform } from "./support/login_flow.ts";

Deno.test("--port takes 0..65535 and says what it expected otherwise", () => {
  assert.equal(parsePort(undefined), 0);
  assert.equal(parsePort("8123"), 8123);
  assert.equal(parsePort("0"), 0);
  for (const bad of ["70000", "-1", "abc", "80.5", ""]) {
    assert.throws(() => parsePort(bad), (error: unknown) =>
      error instanceof UsageError &&
      error.message.startsWith("--port must be a whole number from 1 to 65535"));
  }
});

Deno.test("CLOUDSIGNAL_LOGIN_TIMEOUT shortens the 5-minute wait and is checked", () => {
  assert.equal(loginTimeoutSeconds(() => undefined), 300);
  assert.equal(loginTimeoutSeconds(() => "2.5"), 2.5);
  assert.throws(() => loginTimeoutSeconds(() => "soon"), UsageError);
  assert.throws(() => loginTimeoutSeconds(() => "0"), UsageError);
  assert.equal(formatDuration(300), "5 minutes");
  assert.equal(formatDuration(60), "1 minute");
  assert.equal(formatDuration(1), "1 second");
  assert.equal(formatDuration(90), "90 seconds");
});

Deno.test("on a terminal the wait is a countdown updated in place; --port pins the callback", async () => {
  const t = await startTestPlatform();
  const dir = await tempDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  try {
    const io = recordingIo({ terminal: true, env: { CLOUDSIGNAL_LOGIN_TIMEOUT: "1.2" } });
    const context = cliContext(io, { apiUrl: t.platform.apiUrl, home: dir.path });
    const error = await runLogin(context, { browser: false, port: String(port) }).then(
      () => null,
      (e) => e,
    );
    assert.ok(error instanceof OperationError);
    assert.equal(error.message, "Login timed out");
    assert.ok(
      io.stderr.includes(`redirect_uri=http%3A%2F%2F127.0.0.1%3A${port}%2Fcallback`),
      io.stderr,
    );
    assert.match(
      io.stderr,
      // deno-lint-ignore no-control-regex
      /\r\u001b\[2K… Waiting for the browser sign-in: 0:0[12] left \(Ctrl\+C to cancel\)/,
    );
    assert.ok(io.stderr.endsWith("\r\u001b[2K"), "the countdown line is cleared at the end");
    assert.doesNotMatch(io.stderr, /times out in/);
  } finally {
    await t.close();
    await dir.cleanup();
  }
});

import assert from "node:assert/strict";
import { browserCommands, openBrowser } from "../../src/auth/browser.ts";
import { tempDir } from "../support/cli.ts";

const URL_ = "https://auth.example/oauth/authorize?a=1&b=2";
const env = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("BROWSER entries come first, %s is replaced, otherwise the URL is appended", () => {
  const commands = browserCommands(URL_, env({ BROWSER: "firefox --new-tab:w3m %s" }), "linux");
  assert.deepEqual(commands[0], { command: "firefox", args: ["--new-tab", URL_] });
  assert.deepEqual(commands[1], { command: "w3m", args: [URL_] });
  assert.equal(commands.at(-1)!.command, "xdg-open");
});

Deno.test("the system opener per platform: open, start, wslview, xdg-open", () => {
  assert.deepEqual(browserCommands(URL_, env({}), "darwin"), [{ command: "open", args: [URL_] }]);
  const windows = browserCommands(URL_, env({}), "windows")[0];
  assert.equal(windows.command, "cmd");
  assert.ok(windows.args.includes("start"));
  assert.ok(windows.args.at(-1)!.includes("a=1^&b=2"), "& is escaped for cmd");
  const wsl = browserCommands(URL_, env({ WSL_DISTRO_NAME: "Ubuntu" }), "linux");
  assert.deepEqual(wsl.map((c) => c.command), ["wslview", "xdg-open"]);
});

Deno.test("openBrowser runs BROWSER with the URL as one argument, without a shell", async () => {
  const dir = await tempDir();
  try {
    const record = `${dir.path}/opened.txt`;
    const script = `${dir.path}/browser.sh`;
    await Deno.writeTextFile(script, `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
    await Deno.chmod(script, 0o755);
    const hostile = `${URL_}&x=$(touch ${dir.path}/pwned)`;
    const outcome = await openBrowser(hostile, env({ BROWSER: script }));
    assert.equal(outcome.opened, script);
    assert.equal(await Deno.readTextFile(record), hostile);
    await assert.rejects(Deno.stat(`${dir.path}/pwned`), Deno.errors.NotFound);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a failing or missing opener is skipped, and none working is not an error", async () => {
  const dir = await tempDir();
  try {
    const record = `${dir.path}/opened.txt`;
    const failing = `${dir.path}/fail.sh`;
    const working = `${dir.path}/ok.sh`;
    await Deno.writeTextFile(failing, "#!/bin/sh\nexit 3\n");
    await Deno.writeTextFile(working, `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
    await Deno.chmod(failing, 0o755);
    await Deno.chmod(working, 0o755);
    const outcome = await openBrowser(
      URL_,
      env({
        BROWSER: `${dir.path}/missing-browser:${failing}:${working}`,
      }),
    );
    assert.equal(outcome.opened, working);
    assert.deepEqual(outcome.failures, [
      `${dir.path}/missing-browser: not found`,
      `${failing}: exited with code 3`,
    ]);
    assert.equal(await Deno.readTextFile(record), URL_);
  } finally {
    await dir.cleanup();
  }
});

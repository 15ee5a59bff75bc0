/**
 * The real CLI killed with SIGKILL in the middle of a silent refresh (which rewrites the
 * credentials file) leaves the old file or the new one, never a broken one, and the next
 * command is not blocked by a lock the killed process held.
 */

import assert from "node:assert/strict";
import { credentialsLocation, readCredentials } from "../../src/auth/credentials.ts";
import {
  cliEnv,
  expireStoredAccessToken,
  seedSession,
  spawnCli,
  startTestPlatform,
} from "../auth/support/login_flow.ts";
import { tempDir } from "../support/cli.ts";

const ROUNDS = 40;

Deno.test("a CLI killed during a refresh leaves old or new credentials, never broken ones", async () => {
  const t = await startTestPlatform();
  const home = await tempDir();
  try {
    const { platform } = t;
    const env = cliEnv(home.path, platform.apiUrl);
    const location = credentialsLocation(home.path);
    await seedSession(platform, home.path, -5);

    // How long a refreshing `whoami` takes here, to spread the kills over its whole run.
    const started = performance.now();
    assert.equal((await spawnCli(["whoami"], env).result()).code, 0);
    const span = performance.now() - started;

    for (let round = 0; round < ROUNDS; round++) {
      await expireStoredAccessToken(home.path);
      const old = (await readCredentials(location))!.sessions[0];
      const cli = spawnCli(["whoami"], env);
      await new Promise((resolve) => setTimeout(resolve, span * (0.3 + 0.7 * Math.random())));
      try {
        cli.child.kill("SIGKILL");
      } catch { /* it already finished */ }
      await cli.result();

      const file = await readCredentials(location); // throws when damaged
      assert.ok(file, `round ${round}: the file is there`);
      assert.equal(file.sessions.length, 1);
      const stored = file.sessions[0];
      assert.equal((await Deno.stat(location.file)).mode! & 0o777, 0o600);
      if (stored.access_token === old.access_token) {
        assert.deepEqual(stored, old, `round ${round}: the old file, whole`);
      } else {
        assert.ok(
          await platform.store.accessTokenOwner(stored.access_token),
          `round ${round}: the new file holds the token the server issued`,
        );
      }
      // Killed after the server rotated but before the write: reuse detection ends the
      // session (the documented fail-closed path); start a fresh one for the next round.
      const check = await spawnCli(["whoami"], env).result();
      if (check.code === 4) {
        assert.match(
          check.stderr,
          /Session expired\. Run `cloudsignal login --api-url \S+` again\./,
        );
        await seedSession(platform, home.path, -5);
      } else {
        assert.equal(check.code, 0, check.stderr);
      }
    }
  } finally {
    await t.close();
    await home.cleanup();
  }
});

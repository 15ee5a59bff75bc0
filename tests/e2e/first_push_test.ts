/**
 * The first push a new organization's hint describes (the deny-all policy's description and
 * the `cloudsignal dev` banner): the commands it names work as printed, although a file from
 * `acl init` carries no "$revision".
 */

import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/cli.ts";
import { cliEnv, seedSession, startTestPlatform } from "../auth/support/login_flow.ts";
import { DEFAULT_POLICY } from "../../src/platform/default_policy.ts";

Deno.test("the new organization's hint (acl init, then acl update) works as printed", async () => {
  const t = await startTestPlatform();
  const dir = await tempDir();
  try {
    await seedSession(t.platform, `${dir.path}/home`);
    const env = cliEnv(`${dir.path}/home`, t.platform.apiUrl);
    const hint = /\((cloudsignal acl init [^,]+), then (cloudsignal acl update [^)]+)\)/.exec(
      DEFAULT_POLICY.description ?? "",
    );
    assert.ok(hint, `the description names the commands: ${DEFAULT_POLICY.description}`);
    for (const command of [hint[1], `${hint[2]} --yes`]) {
      const args = command.split(" ").slice(1);
      const result = await runCli(args, { env, cwd: dir.path });
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
    }
    const live = await runCli(["acl", "get"], { env });
    assert.equal(JSON.parse(live.stdout).$revision, 2);
  } finally {
    await t.close();
    await dir.cleanup();
  }
});

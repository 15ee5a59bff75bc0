/** Revision numbers start at 1: 0, negatives and non-numbers are usage errors, sent nowhere. */

import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/cli.ts";
import { getPolicy } from "../../src/policy/read.ts";
import { UsageError } from "../../src/core/errors.ts";
import { testContext } from "../support/context.ts";

Deno.test("acl get --revision and acl update --if-revision refuse 0 like -1, before any request", async () => {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests++;
    return new Response("", { status: 500 });
  });
  const home = await tempDir();
  try {
    const env = {
      CLOUDSIGNAL_API_URL: `http://127.0.0.1:${server.addr.port}`,
      CLOUDSIGNAL_TOKEN: "test-token",
      CLOUDSIGNAL_HOME: home.path,
    };
    const policy = `${home.path}/policy.json`;
    await Deno.writeTextFile(policy, '{"version":"2.2","default":"deny"}');
    for (
      const [args, flag] of [
        [["acl", "get", "--revision", "0"], "--revision"],
        [["acl", "get", "--revision=-1"], "--revision"],
        [["acl", "get", "--revision", "007x"], "--revision"],
        [["acl", "get", "--revision", "99999999999999999999"], "--revision"],
        [["acl", "update", policy, "--if-revision", "0", "--yes"], "--if-revision"],
      ] as const
    ) {
      const result = await runCli([...args], { env });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(
        result.stderr,
        new RegExp(`^Error: ${flag} must be a revision number: 1 or more \\(got "`),
      );
    }
    assert.equal(requests, 0, "nothing was sent");
  } finally {
    await server.shutdown();
    await home.cleanup();
  }
});

Deno.test("getPolicy refuses revision 0 for every front end", async () => {
  await assert.rejects(
    getPolicy(testContext(), { revision: 0 }),
    (error) => error instanceof UsageError && /1 or more \(got 0\)/.test(error.message),
  );
});

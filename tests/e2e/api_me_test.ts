/**
 * An API whose `/v2/me` answer is malformed: commands that need the organization fail with a
 * clear error, exit 5 (the server's fault), and print no policy and no "unexpected failure".
 */

import assert from "node:assert/strict";
import { ME, withFakeApi } from "./fake_api.ts";

const MALFORMED: [string, string, RegExp][] = [
  ["an empty object", "{}", /answered without user_id/],
  ["no organization", JSON.stringify({ ...ME, organization: null }), /without organization\.id/],
  [
    "a numeric organization id",
    JSON.stringify({ ...ME, organization: { ...ME.organization, id: 7 } }),
    /without organization\.id \(expected a non-empty string\)/,
  ],
  ["an array", "[]", /answered without user_id/],
  ["a string", '"me"', /answered without user_id/],
  ["not JSON", "<html>me</html>", /a body that is not JSON/],
];

Deno.test("acl get: a malformed /v2/me is exit 5 before any output", async () => {
  for (const [what, body, message] of MALFORMED) {
    await withFakeApi(
      (_request, path) =>
        path === "/v2/me"
          ? new Response(body, { headers: { "content-type": "application/json" } })
          : null,
      async (api) => {
        for (const args of [["acl", "get"], ["acl", "get", "--pretty"]]) {
          const result = await api.cli(args);
          assert.equal(result.code, 5, `${what}: ${result.stderr}`);
          assert.equal(result.stdout, "", `${what}: the policy is not printed`);
          assert.match(result.stderr, message, what);
          assert.match(result.stderr, /\/v2\/me/, what);
          assert.doesNotMatch(result.stderr, /unexpected failure|^\s+at /m, what);
        }
      },
    );
  }
});

Deno.test("acl get -o: a malformed /v2/me writes no file", async () => {
  await withFakeApi(
    (_request, path) => path === "/v2/me" ? Response.json({ organization: {} }) : null,
    async (api) => {
      const dir = await Deno.makeTempDir();
      try {
        const result = await api.cli(["acl", "get", "-o", `${dir}/policy.json`]);
        assert.equal(result.code, 5, result.stderr);
        assert.deepEqual([...Deno.readDirSync(dir)], []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
});

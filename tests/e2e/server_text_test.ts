/**
 * Bidi overrides and isolates, zero-width and other invisible characters sent by a server
 * never reach the terminal raw: in error messages, emails, claims and the policy `acl get`
 * prints (escaped as `\uXXXX` in JSON, which keeps the value exact).
 */

import assert from "node:assert/strict";
import { ME, POLICY, withFakeApi } from "./fake_api.ts";

/** One of each kind: RLO, LRI…PDI, ZWSP, ZWJ, LRM, ALM, BOM, line separator, a tag, ESC, CSI. */
const TRICKS =
  "\u202E\u2066\u2067\u2068\u2069\u200B\u200D\u200E\u061C\uFEFF\u2028\u{E0041}\u001b\u009b";
const RAW =
  // deno-lint-ignore no-control-regex -- the control characters are what is looked for
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|\udb40[\udc00-\udc7f]/;

function assertClean(text: string, what: string) {
  const at = text.search(RAW);
  assert.equal(at, -1, `${what}: raw U+${text.codePointAt(at)?.toString(16)} at ${at}`);
}

Deno.test("invisible characters in server messages, emails and organization names are escaped", async () => {
  await withFakeApi((_request, path) => {
    if (path === "/v2/me") {
      return Response.json({
        ...ME,
        email: `admin${TRICKS}@example.com`,
        organization: { ...ME.organization, name: `Acme${TRICKS}Corp` },
      });
    }
    return Response.json({ error: "forbidden", message: `read${TRICKS}only` }, { status: 403 });
  }, async (api) => {
    const refused = await api.cli(["acl", "revisions"]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /your account may not list the policy revisions: read only/);
    assertClean(refused.stderr, "error message");
    const whoami = await api.cli(["whoami"]);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, /admin @example\.com/);
    assertClean(whoami.stdout + whoami.stderr, "whoami");
  });
});

Deno.test("invisible characters in claims are escaped in the table and in --json", async () => {
  const claims = { agent_id: `scout${TRICKS}`, [`k${TRICKS}`]: "v" };
  await withFakeApi(
    () => Response.json({ user_id: "u-1", username: `sc\u202Eout`, claims }),
    async (api) => {
      const table = await api.cli(["user", "claims", "show", "scout"]);
      assert.equal(table.code, 0, table.stderr);
      assertClean(table.stdout, "claims table");
      assert.match(table.stdout, /agent_id {2}"scout\\u202e\\u2066/);
      const json = await api.cli(["user", "claims", "show", "scout", "--json"]);
      assertClean(json.stdout, "claims --json");
      assert.deepEqual(JSON.parse(json.stdout).claims, claims, "the values are kept exactly");
    },
  );
});

Deno.test("acl get escapes invisible characters in the policy, formatted or compact", async () => {
  const policy = {
    ...POLICY,
    description: `allow${TRICKS}deny`,
    rules: [{ topic: "sensors/\u202E#", action: "sub", description: "\u2067x\u2069" }],
  };
  await withFakeApi(
    (_request, path) =>
      path === "/v2/acl/policy" ? Response.json(policy, { headers: { etag: '"3"' } }) : null,
    async (api) => {
      for (const flag of ["--pretty", "--compact"]) {
        const result = await api.cli(["acl", "get", flag]);
        assert.equal(result.code, 0, result.stderr);
        assertClean(result.stdout, `acl get ${flag}`);
        assert.match(result.stdout, /allow\\u202e\\u2066/);
        assert.deepEqual(
          JSON.parse(result.stdout),
          { $revision: 3, ...policy },
          `${flag}: the same policy`,
        );
      }
    },
  );
});

Deno.test("acl revisions escapes invisible characters in the table and in --json", async () => {
  const list = {
    current_revision: 2,
    revisions: [{
      revision: 2,
      created_at: `2026-01-01T00:00:00Z${TRICKS}`,
      created_by: { user_id: "u-1", email: `eve${TRICKS}@example.com` },
    }],
  };
  await withFakeApi(
    (_request, path) => path === "/v2/acl/revisions" ? Response.json(list) : null,
    async (api) => {
      const table = await api.cli(["acl", "revisions"]);
      assert.equal(table.code, 0, table.stderr);
      assertClean(table.stdout, "revisions table");
      assert.match(table.stdout, /eve @example\.com \(live\)/);
      const json = await api.cli(["acl", "revisions", "--json"]);
      assertClean(json.stdout, "revisions --json");
      assert.deepEqual(JSON.parse(json.stdout), list);
    },
  );
});

Deno.test("a server that echoes the access token in its errors never gets it printed", async () => {
  for (const status of [400, 403, 404, 409, 413, 422, 429, 500]) {
    await withFakeApi((request, path) => {
      if (path === "/v2/me") return null;
      const echoed = request.headers.get("authorization");
      return Response.json({ error: "refused", message: `token ${echoed} refused` }, {
        status,
        headers: { "retry-after": "0" },
      });
    }, async (api) => {
      for (const args of [["acl", "get"], ["acl", "revisions", "--json"], ["user", "list"]]) {
        const result = await api.cli([...args, "--debug"]);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /token Bearer \[redacted\] refused/, result.stderr);
        assert.equal((result.stdout + result.stderr).includes("test-token"), false, result.stderr);
      }
    });
  }
});

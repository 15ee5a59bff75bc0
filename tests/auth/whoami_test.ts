/**
 * `whoami` is as robust as every other read: retried on 5xx like them, the server's own
 * message when it keeps failing, and any body the server may send (generated) either
 * understood or a clear error, never an "unexpected failure".
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { whoami } from "../../src/auth/account.ts";
import {
  credentialsLocation,
  readCredentials,
  updateCredentials,
  withSession,
} from "../../src/auth/credentials.ts";
import { OperationError } from "../../src/core/errors.ts";
import { runCli, tempDir } from "../support/cli.ts";
import { testContext } from "../support/context.ts";
import { sampleSession } from "./support/sessions.ts";

const ME = {
  user_id: "u-1",
  username: "ada",
  email: "ada@example.com",
  organization: { id: "0b8e7c1e-org", short_id: "acme", name: "Acme" },
};

/** A fake API whose `/v2/me` answers come from `answer` (one per request). */
async function withFakeApi(
  answer: (hit: number) => Response,
  fn: (apiUrl: string, home: string, hits: () => number) => Promise<void>,
) {
  let hits = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => answer(++hits),
  );
  const apiUrl = `http://127.0.0.1:${server.addr.port}`;
  const home = await tempDir();
  try {
    await updateCredentials(credentialsLocation(home.path), (file) => ({
      write: withSession(file, sampleSession({ api_url: apiUrl }), true),
      result: 0,
    }));
    await fn(apiUrl, home.path, () => hits);
  } finally {
    await server.shutdown();
    await home.cleanup();
  }
}

Deno.test("whoami retries a 503 like every read and then answers", () =>
  withFakeApi(
    (hit) => hit <= 2 ? Response.json({ error: "busy" }, { status: 503 }) : Response.json(ME),
    async (apiUrl, home, hits) => {
      const result = await runCli(["whoami"], {
        env: { CLOUDSIGNAL_HOME: home, CLOUDSIGNAL_API_URL: apiUrl },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Email: ada@example\.com\nOrganization: 0b8e7c1e-org\n/);
      assert.equal(hits(), 3);
    },
  ));

Deno.test("whoami on a server that keeps failing: its message, exit 5", () =>
  withFakeApi(
    () =>
      Response.json({ error: "maintenance", message: "down for maintenance until 14:00" }, {
        status: 500,
      }),
    async (apiUrl, home, hits) => {
      const result = await runCli(["whoami"], {
        env: { CLOUDSIGNAL_HOME: home, CLOUDSIGNAL_API_URL: apiUrl },
      });
      assert.equal(result.code, 5);
      assert.match(
        result.stderr,
        /^Error: 127\.0\.0\.1:\d+ failed to say who you are \(HTTP 500: down for maintenance until 14:00\)\n/,
      );
      assert.equal(hits(), 4, "one try and three retries");
    },
  ));

/** Bodies a broken or hostile server may send: any JSON, and a valid body with one field spoiled. */
const bodies = fc.oneof(
  fc.json().map((text) => ({ text, valid: false })),
  fc.record({
    path: fc.constantFrom(
      ["user_id"],
      ["email"],
      ["username"],
      ["organization"],
      ["organization", "id"],
      ["organization", "short_id"],
      ["organization", "name"],
    ),
    value: fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.string({ unit: "binary" }),
      // Text that would rewrite a terminal if printed as is.
      fc.string({ unit: fc.constantFrom("a", "-", "\u001b[2J", "\n", "\r", "\u0085", "é") }),
    ),
  }).map(({ path, value }) => {
    const body = structuredClone(ME) as Record<string, unknown>;
    let at = body;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1)!] = value;
    return { text: JSON.stringify(body), valid: false };
  }),
  fc.string().map((text) => ({ text, valid: false })),
);

Deno.test("whoami: any body is understood or a clear OperationError, never a crash", async () => {
  let body = "";
  await withFakeApi(
    () => new Response(body, { headers: { "content-type": "application/json" } }),
    async (apiUrl, home) => {
      const context = testContext({ apiUrl, home });
      await fc.assert(
        fc.asyncProperty(bodies, async ({ text }) => {
          body = text;
          try {
            const me = await whoami(context);
            for (const value of [me.email, me.user_id, me.organization.id, me.organization.name]) {
              assert.equal(typeof value, "string");
              assert.notEqual(value, "");
              // deno-lint-ignore no-control-regex -- control characters are what must not pass
              assert.doesNotMatch(value, /[\u0000-\u001f\u007f-\u009f]/, "printable");
            }
          } catch (error) {
            assert.ok(error instanceof OperationError, `not an OperationError: ${error}`);
            assert.match(error.message, /127\.0\.0\.1:\d+/, `names the server: ${error.message}`);
            assert.equal(error.code, "unavailable", "the server's fault, never the store's");
          }
          // What whoami learnt and stored must still read back.
          await readCredentials(credentialsLocation(home));
        }),
        { numRuns: 300 },
      );
    },
  );
});

Deno.test("whoami: malformed bodies through the real CLI exit 5 with a message, never 'unexpected failure'", async () => {
  for (
    const [text, message] of [
      ["null", /answered without user_id \(expected a non-empty string\)/],
      ['{"user_id":"u","email":"e@x","organization":"acme"}', /without organization\.id/],
      ["<html>", /a body that is not JSON/],
      ['{"user_id":1}', /without user_id/],
    ] as const
  ) {
    await withFakeApi(
      () => new Response(text, { headers: { "content-type": "application/json" } }),
      async (apiUrl, home) => {
        const result = await runCli(["whoami"], {
          env: { CLOUDSIGNAL_HOME: home, CLOUDSIGNAL_API_URL: apiUrl },
        });
        assert.equal(result.code, 5, result.stderr);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /unexpected failure/);
      },
    );
  }
});

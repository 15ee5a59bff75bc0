import assert from "node:assert/strict";
import { apiErrorOf, failure, retryAfterMs, send } from "../../src/api/request.ts";
import type { HttpResponse } from "../../src/api/http.ts";
import { exitCodeOf } from "../../src/cli/exit_codes.ts";
import { testContext } from "../support/context.ts";

const context = testContext({ apiUrl: "https://api.example.test" });

function response(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    ok: status < 300,
    headers: new Headers(headers),
    url: "https://api.example.test/v2/acl/policy",
    text: body,
    json: () => JSON.parse(body),
  };
}

const call = {
  method: "GET",
  path: "/v2/acl/policy",
  repeatable: true,
  purpose: "fetch the policy",
} as const;

Deno.test("Retry-After: seconds, an HTTP date, or nothing usable", () => {
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs(" 0 "), 0);
  const now = Date.parse("2026-11-23T10:00:00Z");
  assert.equal(retryAfterMs("Mon, 23 Nov 2026 10:00:05 GMT", now), 5000);
  assert.equal(retryAfterMs("Mon, 23 Nov 2026 09:00:00 GMT", now), 0, "a past date means now");
  assert.equal(retryAfterMs("soon"), null);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs(""), null);
});

Deno.test("API errors are read from { error, message } bodies only", () => {
  assert.deepEqual(apiErrorOf(response(400, '{"error":"bad","message":"why"}')), {
    error: "bad",
    message: "why",
  });
  assert.deepEqual(apiErrorOf(response(400, '{"error":"bad"}')), { error: "bad", message: "bad" });
  assert.equal(apiErrorOf(response(502, "<html>")), null);
  assert.equal(apiErrorOf(response(400, "[1]")), null);
});

Deno.test("failures map to the documented exit codes with what failed and what the server said", () => {
  const cases: [number, string, number, RegExp][] = [
    [
      403,
      '{"error":"forbidden","message":"read-only"}',
      1,
      /^your account may not fetch the policy: read-only$/,
    ],
    [404, "", 1, /has no \/v2\/acl\/policy \(HTTP 404\)$/],
    [413, '{"error":"too_large","message":"1 MiB at most"}', 1, /too large .*: 1 MiB at most$/],
    [418, "", 1, /refused to fetch the policy \(HTTP 418\)$/],
    [429, "", 5, /is limiting requests/],
    [
      500,
      '{"error":"internal","message":"boom"}',
      5,
      /failed to fetch the policy \(HTTP 500: boom\)$/,
    ],
    [503, "", 5, /failed to fetch the policy \(HTTP 503\)$/],
  ];
  for (const [status, body, code, message] of cases) {
    const error = failure(context, call, response(status, body));
    assert.equal(exitCodeOf(error.code), code, String(status));
    assert.match(error.message, message, String(status));
  }
  const limited = failure(context, call, response(429, "", { "retry-after": "20" }));
  assert.equal(limited.hint, "Try again in 20 s.");
});

/** A real server on 127.0.0.1 answering each request with `answer(n)` (n from 1). */
async function withApi(
  answer: (count: number) => Response,
  run: (apiUrl: string, count: () => number) => Promise<void>,
): Promise<void> {
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => answer(++count),
  );
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, () => count);
  } finally {
    await server.shutdown();
  }
}

function apiContext(apiUrl: string) {
  return testContext({ apiUrl, env: { CLOUDSIGNAL_TOKEN: "test-token" } });
}

async function sendAndFail(apiUrl: string) {
  const context = apiContext(apiUrl);
  const response = await send(context, call);
  return { context, error: failure(context, call, response) };
}

Deno.test("503 with Retry-After: each wait is told, and the error says how long was waited", async () => {
  const unavailable = () =>
    Response.json({ error: "maintenance", message: "back soon" }, {
      status: 503,
      headers: { "retry-after": "1" },
    });
  await withApi(unavailable, async (apiUrl, count) => {
    const { context, error } = await sendAndFail(apiUrl);
    assert.equal(count(), 4);
    assert.equal(exitCodeOf(error.code), 5);
    assert.match(error.message, /failed to fetch the policy \(HTTP 503: back soon\)$/);
    assert.match(error.hint!, /^Tried 4 times over [34](\.\d)? s\. Try again in 1 s\.$/);
    assert.equal(context.logged.length, 3, context.logged.join("\n"));
    assert.match(
      context.logged[0],
      /^127\.0\.0\.1:\d+ answered HTTP 503 and asked to retry after 1 s: retrying in 1 s \(attempt 2 of 4\)$/,
    );
    assert.match(context.logged[2], /\(attempt 4 of 4\)$/);
  });
});

Deno.test("503 with a Retry-After longer than a command waits: not waited, and the wait is named", async () => {
  await withApi(
    () => new Response("", { status: 503, headers: { "retry-after": "120" } }),
    async (apiUrl, count) => {
      const { context, error } = await sendAndFail(apiUrl);
      assert.equal(count(), 1);
      assert.equal(
        error.hint,
        "It asked to retry after 120 s, longer than a command waits (30 s): try again in 120 s.",
      );
      assert.deepEqual(context.logged, []);
    },
  );
});

Deno.test("503 without Retry-After: retried with backoff, and the error says for how long", async () => {
  await withApi(() => new Response("", { status: 503 }), async (apiUrl, count) => {
    const { context, error } = await sendAndFail(apiUrl);
    assert.equal(count(), 4);
    assert.match(
      error.hint!,
      /^Tried 4 times over \d(\.\d)? s\. The service is having trouble; try again later\.$/,
    );
    assert.deepEqual(context.logged, [], "short backoffs are only logged with --debug");
  });
});

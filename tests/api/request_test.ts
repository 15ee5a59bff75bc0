import assert from "node:assert/strict";
import { apiErrorOf, failure, retryAfterMs } from "../../src/api/request.ts";
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

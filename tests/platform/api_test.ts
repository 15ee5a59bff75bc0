/** The REST API against a real platform: every response is checked against schemas/openapi.json. */

import assert from "node:assert/strict";
import {
  api,
  assertApiError,
  assertSchema,
  login,
  PASSWORD,
  startTestPlatform,
  type TestPlatform,
} from "./support.ts";
import { MAX_BODY_BYTES } from "../../src/platform/mod.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  global: [{ topic: "sensors/#", action: "pub+sub" }],
  rules: [
    { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" },
    { topic: "chat/{channel}/#", action: "sub", binding: "channels", require_grant: true },
    { topic: "ops/#", action: "pub", user: "ops-*" },
  ],
  publishers: [{ identity: "backend-*", topics: ["notifications/#"] }],
  tests: [
    {
      name: "sensors are open",
      client: { username: "x" },
      action: "pub",
      topic: "sensors/a",
      expect: "allow",
    },
  ],
};

async function withPlatform(fn: (t: TestPlatform, token: string) => Promise<void>) {
  const t = await startTestPlatform();
  try {
    const tokens = await login(t.platform.apiUrl);
    await fn(t, tokens.access_token);
  } finally {
    await t.close();
  }
}

Deno.test("GET /v2/me returns the user and organization", async () => {
  await withPlatform(async ({ platform }, token) => {
    const me = await api(platform.apiUrl, token, "GET", "/v2/me");
    assert.equal(me.status, 200);
    assertSchema("Me", me.body);
    assert.deepEqual(me.body, {
      user_id: platform.user.id,
      username: "dev",
      email: "dev@cloudsignal.local",
      organization: platform.organization,
    });
  });
});

Deno.test("missing, malformed and unknown bearer tokens get 401", async () => {
  await withPlatform(async ({ platform }) => {
    const none = await api(platform.apiUrl, null, "GET", "/v2/me");
    assertApiError(none, 401, "unauthorized");
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
    const bad = await api(platform.apiUrl, "csat_not-a-token", "GET", "/v2/acl/policy");
    assertApiError(bad, 401, "unauthorized");
    const basic = await api(platform.apiUrl, null, "GET", "/v2/me", undefined, {
      authorization: "Basic ZGV2OnB3",
    });
    assertApiError(basic, 401, "unauthorized");
  });
});

Deno.test("unknown routes are 404, wrong methods 405 with Allow", async () => {
  await withPlatform(async ({ platform }, token) => {
    assertApiError(await api(platform.apiUrl, token, "GET", "/v2/nothing"), 404, "not_found");
    assertApiError(await api(platform.apiUrl, null, "GET", "/"), 404, "not_found");
    const wrong = await api(platform.apiUrl, token, "DELETE", "/v2/acl/policy");
    assertApiError(wrong, 405, "method_not_allowed");
    assert.equal(wrong.headers.get("allow"), "GET, HEAD, PUT");
    assertApiError(
      await api(platform.apiUrl, token, "GET", "/oauth/token"),
      405,
      "method_not_allowed",
    );
  });
});

Deno.test("policy: the default, ETag, If-None-Match, and revisions", async () => {
  await withPlatform(async ({ platform }, token) => {
    const current = await api(platform.apiUrl, token, "GET", "/v2/acl/policy");
    assert.equal(current.status, 200);
    assertSchema("Policy", current.body);
    assert.equal(current.headers.get("etag"), '"1"');
    assert.equal(current.headers.get("x-policy-revision"), "1");
    assert.equal(current.body.default, "deny");
    assert.deepEqual(current.body.global, []);
    const unchanged = await api(platform.apiUrl, token, "GET", "/v2/acl/policy", undefined, {
      "if-none-match": '"1"',
    });
    assert.equal(unchanged.status, 304);

    const text = `${JSON.stringify(POLICY, null, 2)}\n`;
    const put = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", text, {
      "if-match": '"1"',
    });
    assert.equal(put.status, 200, put.text);
    assertSchema("PolicyUpdateResult", put.body);
    assert.equal(put.body.revision, 2);
    assert.equal(put.headers.get("etag"), '"2"');

    const after = await api(platform.apiUrl, token, "GET", "/v2/acl/policy");
    assert.equal(after.text, text, "the document comes back exactly as it was sent");
    const old = await api(platform.apiUrl, token, "GET", "/v2/acl/policy?revision=1");
    assert.equal(old.status, 200);
    assert.equal(old.headers.get("etag"), '"1"');
    assert.deepEqual(old.body.global, []);
    assertApiError(
      await api(platform.apiUrl, token, "GET", "/v2/acl/policy?revision=9"),
      404,
      "revision_not_found",
    );
    assertApiError(
      await api(platform.apiUrl, token, "GET", "/v2/acl/policy?revision=abc"),
      400,
      "invalid_request",
    );

    const list = await api(platform.apiUrl, token, "GET", "/v2/acl/revisions");
    assert.equal(list.status, 200);
    assertSchema("RevisionList", list.body);
    assert.equal(list.body.current_revision, 2);
    assert.deepEqual(list.body.revisions.map((r: { revision: number }) => r.revision), [2, 1]);
    assert.deepEqual(list.body.revisions[0].created_by, {
      user_id: platform.user.id,
      email: "dev@cloudsignal.local",
    });
    assert.equal(list.body.revisions[1].created_by, null);
    assert.equal(list.body.next_before, null);
    const page = await api(platform.apiUrl, token, "GET", "/v2/acl/revisions?limit=1");
    assert.deepEqual(page.body.revisions.map((r: { revision: number }) => r.revision), [2]);
    assert.equal(page.body.next_before, 2);
    const next = await api(platform.apiUrl, token, "GET", "/v2/acl/revisions?limit=1&before=2");
    assert.deepEqual(next.body.revisions.map((r: { revision: number }) => r.revision), [1]);

    const one = await api(platform.apiUrl, token, "GET", "/v2/acl/revisions/2");
    assert.equal(one.status, 200);
    assertSchema("PolicyRevision", one.body);
    assert.deepEqual(one.body.policy, POLICY);
    assertApiError(
      await api(platform.apiUrl, token, "GET", "/v2/acl/revisions/7"),
      404,
      "revision_not_found",
    );
  });
});

Deno.test("policy PUT: If-Match required (428), moved revision (412), * replaces", async () => {
  await withPlatform(async ({ platform }, token) => {
    const missing = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY);
    assertApiError(missing, 428, "precondition_required");
    const first = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY, {
      "if-match": '"1"',
    });
    assert.equal(first.status, 200);
    const stale = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY, {
      "if-match": '"1"',
    });
    assertApiError(stale, 412, "revision_mismatch", "RevisionMismatchError");
    assert.equal(stale.body.current_revision, 2);
    const forced = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY, {
      "if-match": "*",
    });
    assert.equal(forced.status, 200);
    assert.equal(forced.body.revision, 3);
  });
});

Deno.test("policy PUT: invalid policies get 422 with findings; failing tests 422", async () => {
  await withPlatform(async ({ platform }, token) => {
    const invalid = await api(
      platform.apiUrl,
      token,
      "PUT",
      "/v2/acl/policy",
      '{\n  "version": "2.2",\n  "default": "deny",\n  "global": [{ "topic": "a/#", "action": "read" }]\n}\n',
      { "if-match": '"1"' },
    );
    assertApiError(invalid, 422, "invalid_policy", "InvalidPolicyError");
    const finding = invalid.body.findings.find((f: { severity: string }) => f.severity === "error");
    assert.equal(finding.path, "global[0]");
    assert.equal(finding.line, 4);
    assert.match(finding.message, /read/);

    const failing = {
      ...POLICY,
      tests: [{
        name: "secrets are open",
        client: { username: "x" },
        action: "sub",
        topic: "secrets/#",
        expect: "allow",
      }],
    };
    const tests = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", failing, {
      "if-match": '"1"',
    });
    assertApiError(tests, 422, "policy_tests_failed", "InvalidPolicyError");
    assert.equal(tests.body.tests.failed, 1);
    assert.equal(tests.body.tests.failures[0].name, "secrets are open");
    assert.match(tests.body.tests.failures[0].explanation, /^Denied/);

    const syntax = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", '{"version": ', {
      "if-match": '"1"',
    });
    assertApiError(syntax, 400, "invalid_json");
    const notJson = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", "x", {
      "if-match": '"1"',
      "content-type": "text/plain",
    });
    assertApiError(notJson, 415, "unsupported_media_type");
    const current = await api(platform.apiUrl, token, "GET", "/v2/acl/policy");
    assert.equal(current.headers.get("etag"), '"1"', "nothing was stored");
  });
});

Deno.test("bodies over 1 MiB get 413, malformed JSON 400", async () => {
  await withPlatform(async ({ platform }, token) => {
    const big = JSON.stringify({ description: "x".repeat(MAX_BODY_BYTES), version: "2.2" });
    const tooLarge = await api(platform.apiUrl, token, "POST", "/v2/acl/validate", big);
    assertApiError(tooLarge, 413, "payload_too_large");
    const bad = await api(platform.apiUrl, token, "POST", "/v2/acl/simulate", "{nope");
    assertApiError(bad, 400, "invalid_json");
    const empty = await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/a", "");
    assertApiError(empty, 400, "invalid_json");
  });
});

Deno.test("validate: server-stage findings from the organization's claims and users", async () => {
  await withPlatform(async ({ platform }, token) => {
    const text = JSON.stringify(POLICY, null, 2);
    const result = await api(platform.apiUrl, token, "POST", "/v2/acl/validate", text);
    assert.equal(result.status, 200);
    assertSchema("ValidationResult", result.body);
    const codes = result.body.findings.map((f: { code: string; path: string }) =>
      `${f.code} ${f.path}`
    );
    assert.deepEqual(codes.sort(), [
      "claim_never_set rules[0]",
      "claim_never_set rules[1]",
      "publisher_matches_no_user publishers[0]",
      "user_matches_no_user rules[2]",
    ]);
    for (const finding of result.body.findings) {
      assert.equal(finding.stage, "server");
      assert.equal(finding.severity, "warning");
      assert.ok(finding.line > 1, "findings carry the line in the sent text");
    }
    platform.store.setClaim(platform.user.id, "agent_id", "scout");
    platform.store.setClaim(platform.user.id, "channels", "lobby");
    const user = await platform.store.createUser({
      org_id: platform.organization.id,
      email: "backend@example.com",
      password: PASSWORD,
      username: "backend-1",
    });
    assert.equal(user.username, "backend-1");
    const again = await api(platform.apiUrl, token, "POST", "/v2/acl/validate", text);
    assert.deepEqual(again.body.findings.map((f: { code: string }) => f.code), [
      "user_matches_no_user",
    ]);
    const notPolicy = await api(platform.apiUrl, token, "POST", "/v2/acl/validate", "[1]");
    assertApiError(notPolicy, 422, "invalid_policy", "InvalidPolicyError");
    assert.equal(notPolicy.body.findings[0].code, "wrong_type");
    const invalid = await api(platform.apiUrl, token, "POST", "/v2/acl/validate", {
      version: "2.2",
      default: "deny",
      rules: [null],
    });
    assertApiError(invalid, 422, "invalid_policy", "InvalidPolicyError");
    assert.equal(invalid.body.findings[0].pointer, "/rules/0");
    const broken = await api(platform.apiUrl, token, "POST", "/v2/acl/validate", "{nope");
    assertApiError(broken, 400, "invalid_json");
  });
});

Deno.test("simulate: live policy or a given one, with the trace", async () => {
  await withPlatform(async ({ platform }, token) => {
    const request = {
      client: { username: "scout", claims: { agent_id: "scout" } },
      action: "pub",
      topic: "agents/scout/card",
    };
    const live = await api(platform.apiUrl, token, "POST", "/v2/acl/simulate", { request });
    assert.equal(live.status, 200);
    assertSchema("Decision", live.body);
    assert.equal(live.body.decision, "deny");
    assert.equal(live.body.reason, "default");
    const given = await api(platform.apiUrl, token, "POST", "/v2/acl/simulate", {
      request,
      policy: POLICY,
    });
    assertSchema("Decision", given.body);
    assert.equal(given.body.decision, "allow");
    assert.equal(given.body.matched.pointer, "/rules/0");
    assert.equal(given.body.matched.resolved_topic, "agents/scout/card");
    assert.ok(Array.isArray(given.body.trace));

    const orgRule = {
      version: "2.2",
      default: "deny",
      global: [{ topic: "org/{org_short_id}/#", action: "sub" }],
    };
    const org = await api(platform.apiUrl, token, "POST", "/v2/acl/simulate", {
      request: {
        client: { username: "u" },
        action: "sub",
        topic: `org/${platform.organization.short_id}/x`,
      },
      policy: orgRule,
    });
    assert.equal(org.body.decision, "allow", "org_short_id defaults to the caller's");

    const badRequest = await api(platform.apiUrl, token, "POST", "/v2/acl/simulate", {
      request: { client: { username: "u" }, action: "read", topic: "a" },
    });
    assertApiError(badRequest, 422, "invalid_request", "InvalidPolicyError");
    const badPolicy = await api(platform.apiUrl, token, "POST", "/v2/acl/simulate", {
      request,
      policy: { version: "9" },
    });
    assertApiError(badPolicy, 422, "invalid_policy", "InvalidPolicyError");
    assert.ok(badPolicy.body.findings.length > 0);
  });
});

Deno.test("claims: get, set, delete by id or username; unsafe values refused", async () => {
  await withPlatform(async ({ platform }, token) => {
    const put = await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY, {
      "if-match": '"1"',
    });
    assert.equal(put.status, 200);
    const empty = await api(platform.apiUrl, token, "GET", `/v2/users/${platform.user.id}/claims`);
    assert.equal(empty.status, 200);
    assertSchema("UserClaims", empty.body);
    assert.deepEqual(empty.body, { user_id: platform.user.id, username: "dev", claims: {} });

    const set = await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/agent_id", {
      value: "scout",
    });
    assert.equal(set.status, 200);
    assertSchema("UserClaims", set.body);
    assert.deepEqual(set.body.claims, { agent_id: "scout" });

    const unsafe = await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/agent_id", {
      value: "a/b",
    });
    assertApiError(unsafe, 422, "unsafe_claim_value", "ClaimError");
    assert.match(unsafe.body.message, /rules\[0\]/);
    assert.deepEqual(unsafe.body.rules, [{
      path: "rules[0]",
      pointer: "/rules/0/topic",
      topic: "agents/{$self}/card",
    }]);
    const nul = await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/agent_id", {
      value: "a\u0000b",
    });
    assertApiError(nul, 422, "unsafe_claim_value", "ClaimError");
    assert.match(nul.body.message, /NUL/);
    const free = await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/team", {
      value: "a/b+#",
    });
    assert.equal(free.status, 200, "a claim no rule substitutes may hold anything");
    const grant = await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/channels", {
      value: "lobby,dev",
    });
    assert.equal(grant.status, 200);

    assertApiError(
      await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/9bad", { value: "x" }),
      422,
      "invalid_claim_key",
      "ClaimError",
    );
    assertApiError(
      await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/k", { value: 5 }),
      422,
      "invalid_claim_value",
      "ClaimError",
    );
    assertApiError(
      await api(platform.apiUrl, token, "PUT", "/v2/users/dev/claims/k", {
        value: "x".repeat(1025),
      }),
      422,
      "invalid_claim_value",
      "ClaimError",
    );

    const removed = await api(platform.apiUrl, token, "DELETE", "/v2/users/dev/claims/team");
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body.claims, { agent_id: "scout", channels: "lobby,dev" });
    assertApiError(
      await api(platform.apiUrl, token, "DELETE", "/v2/users/dev/claims/team"),
      404,
      "claim_not_found",
    );
    assertApiError(
      await api(platform.apiUrl, token, "GET", "/v2/users/nobody/claims"),
      404,
      "user_not_found",
    );
    const users = await api(platform.apiUrl, token, "GET", "/v2/users");
    assertSchema("UserList", users.body);
    assert.deepEqual(users.body.users.map((u: { username: string }) => u.username), ["dev"]);
  });
});

Deno.test("another organization's data is invisible (404) and its tokens see only their own", async () => {
  await withPlatform(async ({ platform }, token) => {
    const other = platform.store.createOrganization({ name: "Other", short_id: "other-org" });
    const stranger = await platform.store.createUser({
      org_id: other.id,
      email: "stranger@example.com",
      password: PASSWORD,
    });
    platform.store.setClaim(stranger.id, "agent_id", "theirs");
    for (const path of [`/v2/users/${stranger.id}/claims`, "/v2/users/stranger/claims"]) {
      assertApiError(await api(platform.apiUrl, token, "GET", path), 404, "user_not_found");
    }
    assertApiError(
      await api(platform.apiUrl, token, "PUT", `/v2/users/${stranger.id}/claims/agent_id`, {
        value: "mine",
      }),
      404,
      "user_not_found",
    );
    assert.deepEqual(platform.store.claims(stranger.id), { agent_id: "theirs" });

    const theirs = await login(platform.apiUrl, {
      email: "stranger@example.com",
      password: PASSWORD,
    });
    const me = await api(platform.apiUrl, theirs.access_token, "GET", "/v2/me");
    assert.equal(me.body.organization.short_id, "other-org");
    const policy = await api(platform.apiUrl, theirs.access_token, "GET", "/v2/acl/policy");
    assert.equal(policy.headers.get("etag"), '"1"');
    await api(platform.apiUrl, token, "PUT", "/v2/acl/policy", POLICY, { "if-match": '"1"' });
    const still = await api(platform.apiUrl, theirs.access_token, "GET", "/v2/acl/policy");
    assert.equal(still.headers.get("etag"), '"1"', "one organization's update is not the other's");
    assertApiError(
      await api(
        platform.apiUrl,
        theirs.access_token,
        "GET",
        `/v2/users/${platform.user.id}/claims`,
      ),
      404,
      "user_not_found",
    );
  });
});

/**
 * The operations without a terminal: a neutral context, a real local platform, typed results
 * and coded errors. The CLI's end-to-end tests cover the same paths through the adapters.
 */

import assert from "node:assert/strict";
import { login, startTestPlatform, type TestPlatform } from "../platform/support.ts";
import { testContext } from "../support/context.ts";
import { getPolicy, listRevisions } from "../../src/policy/read.ts";
import { applyPolicyUpdate, planPolicyUpdate } from "../../src/policy/update.ts";
import { validatePolicy } from "../../src/policy/validate.ts";
import { simulate } from "../../src/policy/simulate.ts";
import { testPolicy } from "../../src/policy/tests.ts";
import { comparePolicy } from "../../src/policy/compare.ts";
import {
  PolicyConflictError,
  PolicyInvalidError,
  TestsFailedError,
} from "../../src/policy/errors.ts";
import { listUsers, setClaim, showClaims, unsetClaim } from "../../src/claims/user_claims.ts";
import { whoami } from "../../src/auth/account.ts";
import { OperationError } from "../../src/core/errors.ts";
import type { Policy } from "../../src/acl/types.ts";

const EXAMPLE = new URL("../../examples/agent-card.json", import.meta.url).pathname;

async function withPlatform(
  fn: (t: TestPlatform, context: ReturnType<typeof testContext>) => Promise<void>,
) {
  const t = await startTestPlatform();
  const home = await Deno.makeTempDir({ prefix: "cloudsignal-ops-" });
  try {
    const token = (await login(t.platform.apiUrl)).access_token;
    await fn(
      t,
      testContext({ apiUrl: t.platform.apiUrl, home, env: { CLOUDSIGNAL_TOKEN: token } }),
    );
  } finally {
    await t.close();
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("operations: plan, apply, read back, compare and list revisions", () =>
  withPlatform(async (_t, context) => {
    const before = await getPolicy(context);
    assert.equal(before.live, true);
    const plan = await planPolicyUpdate(context, {
      policy: { path: EXAMPLE },
      baseRevision: before.revision,
    });
    assert.equal(plan.conflict, false);
    assert.equal(plan.base, before.revision);
    assert.equal(plan.tests.failed, 0);
    assert.ok(plan.diff.sections.some((section) => section.added.length > 0));
    const written = await applyPolicyUpdate(context, plan);
    assert.equal(written.previous_revision, before.revision);
    assert.ok(written.revision > before.revision);

    const after = await getPolicy(context);
    assert.equal(after.revision, written.revision);
    const same = await comparePolicy(context, { policy: { path: EXAMPLE } });
    assert.equal(same.identical, true);
    const old = await comparePolicy(context, {
      policy: { path: EXAMPLE },
      revision: before.revision,
    });
    assert.equal(old.identical, false);
    assert.equal(old.against.live, false);
    const revisions = await listRevisions(context);
    assert.equal(revisions.current_revision, written.revision);
  }));

Deno.test("operations: a stale base is a conflict, planned and refused, and nothing is written", () =>
  withPlatform(async (_t, context) => {
    const { revision } = await getPolicy(context);
    const first = await planPolicyUpdate(context, {
      policy: { path: EXAMPLE },
      baseRevision: revision,
    });
    await applyPolicyUpdate(context, first);
    const text = JSON.stringify({
      ...JSON.parse(await Deno.readTextFile(EXAMPLE)),
      default: "deny",
    });
    const stale = await planPolicyUpdate(context, { policy: { text }, baseRevision: revision });
    assert.equal(stale.conflict, true);
    const error = await applyPolicyUpdate(context, stale).then(() => null, (e) => e);
    assert.ok(error instanceof PolicyConflictError);
    assert.equal(error.code, "revision_conflict");
    assert.deepEqual([error.base, error.current], [revision, revision + 1]);
    assert.equal((await getPolicy(context)).revision, revision + 1);
  }));

Deno.test("operations: invalid policies and failing tests are coded errors carrying what failed", () =>
  withPlatform(async (_t, context) => {
    const invalid = await planPolicyUpdate(context, {
      policy: { text: '{"version": "2.2", "default": "maybe"}', name: "inline" },
    }).then(() => null, (e) => e);
    assert.ok(invalid instanceof PolicyInvalidError);
    assert.equal(invalid.code, "policy_invalid");
    assert.equal(invalid.source, "inline");
    assert.ok(invalid.result.findings.some((finding) => finding.pointer === "/default"));

    const policy = JSON.parse(await Deno.readTextFile(EXAMPLE)) as Policy;
    policy.tests![0].expect = "deny";
    const failing = await planPolicyUpdate(context, {
      policy: { text: JSON.stringify(policy) },
    }).then(() => null, (e) => e);
    assert.ok(failing instanceof TestsFailedError);
    assert.equal(failing.code, "tests_failed");
    assert.equal(failing.run.failed, 1);
  }));

Deno.test("operations: validation runs both stages, and reports a server stage that cannot run", () =>
  withPlatform(async (t, context) => {
    const both = await validatePolicy(context, { policy: { path: EXAMPLE } });
    assert.equal(both.server, "checked");
    assert.equal(both.serverError, null);
    const local = await validatePolicy(context, { policy: { path: EXAMPLE }, localOnly: true });
    assert.equal(local.server, "skipped");
    await t.platform.close();
    const down = await validatePolicy(context, { policy: { path: EXAMPLE } });
    assert.equal(down.server, "failed");
    assert.equal(down.serverError?.code, "unavailable");
    assert.equal(down.valid, true, "the local stage still stands");
  }));

Deno.test("operations: simulate offline, with a user's claims, and compared with the server", () =>
  withPlatform(async (t, context) => {
    const offline = await simulate(testContext(), {
      action: "pub",
      topic: "agents/scout/card",
      client: { username: "scout", claims: { agent_id: "scout" } },
      policy: { path: EXAMPLE },
    });
    assert.equal(offline.decision.decision, "allow");
    assert.equal(offline.source, EXAMPLE);

    const { revision } = await getPolicy(context);
    await applyPolicyUpdate(
      context,
      await planPolicyUpdate(context, { policy: { path: EXAMPLE }, baseRevision: revision }),
    );
    const username = t.platform.user.username;
    await setClaim(context, { user: username, key: "agent_id", value: username });
    const live = await simulate(context, {
      action: "pub",
      topic: `agents/${username}/card`,
      user: username,
      compareServer: true,
    });
    assert.equal(live.decision.decision, "allow");
    assert.equal(live.source, null);
    assert.equal(live.revision, revision + 1);
    assert.deepEqual(live.server?.differences, []);

    const bad = await simulate(testContext(), {
      action: "sub",
      topic: "x",
      retain: true,
      client: { username: "a" },
    }).then(() => null, (e) => e);
    assert.ok(bad instanceof OperationError);
    assert.equal(bad.code, "invalid_argument");
    assert.equal(bad.argument, "retain");
  }));

Deno.test("operations: claims and users, and an unsafe value refused before anything is written", () =>
  withPlatform(async (t, context) => {
    const username = t.platform.user.username;
    const users = await listUsers(context);
    assert.ok(users.some((user) => user.username === username));
    const set = await setClaim(context, { user: username, key: "team", value: "red" });
    assert.equal(set.claims.team, "red");
    const { revision } = await getPolicy(context);
    await applyPolicyUpdate(
      context,
      await planPolicyUpdate(context, { policy: { path: EXAMPLE }, baseRevision: revision }),
    );
    const refused = await setClaim(context, { user: username, key: "agent_id", value: "a/b" })
      .then(() => null, (e) => e);
    assert.ok(refused instanceof OperationError);
    assert.equal(refused.argument, "value");
    assert.equal((await showClaims(context, { user: username })).claims.agent_id, undefined);
    const unset = await unsetClaim(context, { user: username, key: "team" });
    assert.equal(unset.claims.team, undefined);
  }));

Deno.test("operations: whoami and the tests of a policy need no terminal", () =>
  withPlatform(async (t, context) => {
    const me = await whoami(context);
    assert.equal(me.email, t.platform.user.email);
    assert.equal(me.source, "env");
    const { run } = await testPolicy({ policy: { path: EXAMPLE } });
    assert.equal(run.failed, 0);
    assert.ok(run.passed > 0);
  }));

Deno.test("operations: a server that refuses a policy on validation gives its findings, placed", async () => {
  const fake: typeof fetch = (input) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    assert.equal(path, "/v2/acl/validate");
    return Promise.resolve(Response.json({
      error: "invalid_policy",
      message: "the policy has errors",
      findings: [{
        severity: "error",
        code: "newer_rule",
        path: "rules[0]",
        pointer: "/rules/0",
        message: "this server knows better",
      }],
    }, { status: 422 }));
  };
  const outcome = await validatePolicy(
    testContext({ env: { CLOUDSIGNAL_TOKEN: "t" }, fetch: fake, apiUrl: "http://127.0.0.1:9" }),
    { policy: { path: EXAMPLE } },
  );
  assert.equal(outcome.server, "checked");
  assert.equal(outcome.valid, false);
  const finding = outcome.findings.find((item) => item.code === "newer_rule");
  assert.equal(finding?.stage, "server");
  assert.equal(finding?.line, 7);
});

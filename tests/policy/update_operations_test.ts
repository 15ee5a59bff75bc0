/**
 * The update operations' base revision, server findings, size limit and rollback, on a real
 * local platform with a neutral context (no terminal), as the MCP server calls them.
 */

import assert from "node:assert/strict";
import { login, startTestPlatform, type TestPlatform } from "../platform/support.ts";
import { testContext } from "../support/context.ts";
import { getPolicy, listRevisions } from "../../src/policy/read.ts";
import { applyPolicyUpdate, planPolicyUpdate } from "../../src/policy/update.ts";
import { planRollback } from "../../src/policy/rollback.ts";
import { validatePolicy } from "../../src/policy/validate.ts";
import { BaseUnknownError, PolicyConflictError } from "../../src/policy/errors.ts";
import { OperationError } from "../../src/core/errors.ts";
import { API_BODY_LIMIT_BYTES } from "../../src/policy/body_size.ts";

async function withPlatform(
  fn: (t: TestPlatform, context: ReturnType<typeof testContext>, dir: string) => Promise<void>,
) {
  const t = await startTestPlatform();
  const dir = await Deno.makeTempDir({ prefix: "cloudsignal-update-ops-" });
  try {
    const token = (await login(t.platform.apiUrl)).access_token;
    await fn(
      t,
      testContext({ apiUrl: t.platform.apiUrl, home: dir, env: { CLOUDSIGNAL_TOKEN: token } }),
      dir,
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function policyText(revision: number | null, topics: string[]): string {
  return JSON.stringify(
    {
      ...(revision === null ? {} : { $revision: revision }),
      version: "2.2",
      default: "deny",
      rules: topics.map((topic) => ({ topic, action: "pub", binding: "agent_id" })),
    },
    null,
    2,
  );
}

Deno.test("update operations: the base is the text's $revision, never sent, and the plan carries the server's findings", () =>
  withPlatform(async (_t, context, dir) => {
    const path = `${dir}/p.json`;
    const text = policyText(1, ["agents/{$self}/card"]);
    await Deno.writeTextFile(path, text);
    const plan = await planPolicyUpdate(context, { policy: { path } });
    assert.deepEqual([plan.base, plan.baseSource, plan.fileRevision], [1, "file", 1]);
    assert.equal(plan.conflict, false);
    assert.equal("$revision" in plan.policy, false, "the API never sees it");
    assert.deepEqual([plan.file, plan.text], [path, text]);
    const [finding] = plan.serverFindings;
    assert.equal(finding.code, "claim_never_set");
    assert.deepEqual([finding.pointer, finding.line], ["/rules/0/topic", 7], "placed in the file");
    const written = await applyPolicyUpdate(context, plan);
    assert.equal(written.revision, 2);
    assert.ok(written.findings.some((item) => item.code === "claim_never_set"));
    assert.equal(await Deno.readTextFile(path), text, "the operation leaves files alone");
    const live = await getPolicy(context);
    assert.equal("$revision" in live.policy, false);

    const explicit = await planPolicyUpdate(context, {
      policy: { text: policyText(1, ["b/{$self}"]) },
      baseRevision: 2,
    });
    assert.deepEqual([explicit.base, explicit.baseSource, explicit.conflict], [
      2,
      "explicit",
      false,
    ]);
  }));

Deno.test("update operations: no base is planned, then refused; a stale one lists what changed since", () =>
  withPlatform(async (_t, context) => {
    const unknown = await planPolicyUpdate(context, { policy: { text: policyText(null, ["a"]) } });
    assert.equal(unknown.base, null);
    const refused = await applyPolicyUpdate(context, unknown).then(() => null, (e) => e);
    assert.ok(refused instanceof BaseUnknownError);
    assert.equal(refused.code, "base_unknown");
    assert.match(refused.hint!, /--if-revision N \(the live one is 1;/);
    assert.equal((await getPolicy(context)).revision, 1, "nothing was written");

    const theirs = await planPolicyUpdate(context, { policy: { text: policyText(1, ["theirs"]) } });
    await applyPolicyUpdate(context, theirs);
    const mine = await planPolicyUpdate(context, { policy: { text: policyText(1, ["mine"]) } });
    assert.equal(mine.conflict, true);
    assert.deepEqual(mine.sinceBase?.sections[0].added.map((item) => item.value.topic), ["theirs"]);
    const conflict = await applyPolicyUpdate(context, mine).then(() => null, (e) => e);
    assert.ok(conflict instanceof PolicyConflictError);
    assert.deepEqual([conflict.base, conflict.current], [1, 2]);
    assert.doesNotMatch(conflict.hint!, /acl get >/);
  }));

Deno.test("update operations: a policy over the API's 1 MiB is refused with its size before anything is fetched", async () => {
  const rules = Array.from(
    { length: 30_000 },
    (_, k) => ({ topic: `devices/d${k}/#`, action: "pub" }),
  );
  const text = JSON.stringify({ $revision: 1, version: "2.2", default: "deny", rules });
  assert.ok(text.length > API_BODY_LIMIT_BYTES);
  const offline = testContext();
  const error = await planPolicyUpdate(offline, { policy: { text } }).then(() => null, (e) => e);
  assert.ok(error instanceof OperationError);
  assert.equal(error.code, "too_large");
  assert.match(
    error.message,
    /^Nothing was sent: the policy is 1\.\d MiB \([\d,]+ bytes\) as the API receives it \(compact JSON\), and the API accepts 1 MiB \(1,048,576 bytes\) at most/,
  );

  const outcome = await validatePolicy(offline, { policy: { text } });
  assert.equal(outcome.valid, false);
  assert.equal(outcome.server, "blocked", "the server stage would only answer 413");
  assert.deepEqual(outcome.findings.map((finding) => finding.code), ["policy_too_large"]);
  const local = await validatePolicy(offline, { policy: { text }, localOnly: true });
  assert.equal(local.server, "skipped");
  assert.equal(local.valid, false);
});

Deno.test("rollback and reads: an earlier revision is planned against the live one; revisions page", () =>
  withPlatform(async (_t, context) => {
    for (const topic of ["one", "two", "three"]) {
      const { revision } = await getPolicy(context);
      await applyPolicyUpdate(
        context,
        await planPolicyUpdate(context, { policy: { text: policyText(revision, [topic]) } }),
      );
    }
    const earlier = await getPolicy(context, { revision: 2 });
    assert.deepEqual([earlier.revision, earlier.live, earlier.base_revision], [2, false, 4]);
    const plan = await planRollback(context, { revision: 2 });
    assert.deepEqual([plan.name, plan.base, plan.live.revision, plan.conflict], [
      "revision 2",
      4,
      4,
      false,
    ]);
    assert.ok(plan.serverFindings.every((finding) => finding.line === undefined));
    assert.equal((await applyPolicyUpdate(context, plan)).revision, 5);
    assert.deepEqual((await getPolicy(context)).policy.rules?.map((rule) => rule.topic), ["one"]);

    const page = await listRevisions(context, { limit: 2 });
    assert.deepEqual(page.revisions.map((item) => item.revision), [5, 4]);
    assert.equal(page.next_before, 4);
    const next = await listRevisions(context, { limit: 2, before: page.next_before! });
    assert.deepEqual(next.revisions.map((item) => item.revision), [3, 2]);
    const last = await listRevisions(context, { before: 2 });
    assert.equal(last.next_before, null);
    const bad = await listRevisions(context, { limit: 0 }).then(() => null, (e) => e);
    assert.equal(bad?.code, "invalid_argument");
  }));

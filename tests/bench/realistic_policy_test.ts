import assert from "node:assert/strict";
import { realisticPolicy, realisticRequests } from "../../bench/support/realistic_policy.ts";
import { compilePolicy } from "../../src/acl/compile.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import { validatePolicyText } from "../../src/acl/validate.ts";

/** Per kind of request (username shape, action): how many, allowed, matched, default-denied. */
function outcomes(size: number): Record<string, number[]> {
  const compiled = compilePolicy(realisticPolicy(size));
  const byKind: Record<string, number[]> = {};
  for (const request of realisticRequests(size, 2048)) {
    const shape = request.client.username.replace(/[0-9]+/g, "N");
    const kind = `${shape} ${request.action}`;
    const decision = evaluate(compiled, request);
    const counts = byKind[kind] ??= [0, 0, 0, 0];
    counts[0]++;
    if (decision.decision === "allow") counts[1]++;
    if (decision.matched) counts[2]++;
    if (decision.reason === "default") counts[3]++;
  }
  return byKind;
}

Deno.test("benchmark requests meet the same rule kinds with the same outcomes at every size", () => {
  const small = outcomes(10);
  assert.equal(Object.keys(small).length, 10);
  for (const [kind, [, , matched]] of Object.entries(small)) {
    assert.ok(matched > 0, `no ${kind} request matches a rule of the 10-rule policy`);
  }
  const totals = Object.values(small).reduce((sum, counts) => sum.map((n, i) => n + counts[i]));
  assert.ok(totals[1] > 0.4 * totals[0] && totals[1] < 0.8 * totals[0], `allowed: ${totals}`);
  assert.deepEqual(outcomes(1_000), small);
  assert.deepEqual(outcomes(10_000), small);
});

Deno.test("benchmark policies are valid and have the size asked for", () => {
  for (const size of [10, 1_000]) {
    const policy = realisticPolicy(size);
    const result = validatePolicyText(JSON.stringify(policy));
    assert.deepEqual(result.findings.filter((f) => f.severity === "error"), []);
    const topics = policy.rules!.length + policy.global!.length +
      policy.publishers!.reduce((sum, publisher) => sum + publisher.topics.length, 0);
    assert.equal(topics, size);
  }
});

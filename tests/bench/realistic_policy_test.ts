import assert from "node:assert/strict";
import { realisticPolicy, realisticRequests } from "../../bench/support/realistic_policy.ts";
import { compilePolicy } from "../../src/acl/compile.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import { validatePolicyText } from "../../src/acl/validate.ts";

/** Per kind of request (username shape and action): how many, allowed, matched a rule. */
function outcomes(size: number): Record<string, [number, number, number]> {
  const compiled = compilePolicy(realisticPolicy(size));
  const byKind: Record<string, [number, number, number]> = {};
  for (const request of realisticRequests(size, 2048)) {
    const shape = request.client.username.replace(/[0-9]+/g, "N").replace(/-[a-z]+$/, "");
    const kind = `${shape} ${request.action}`;
    const decision = evaluate(compiled, request);
    const counts = byKind[kind] ??= [0, 0, 0];
    counts[0]++;
    if (decision.decision === "allow") counts[1]++;
    if (decision.matched) counts[2]++;
  }
  return byKind;
}

Deno.test("benchmark requests meet the same rule kinds with the same outcomes at every size", () => {
  const small = outcomes(10);
  assert.equal(Object.keys(small).length, 8);
  for (const [kind, [count, allowed, matched]] of Object.entries(small)) {
    assert.ok(matched > 0, `no ${kind} request matches a rule of the 10-rule policy`);
    assert.ok(allowed < count, `every ${kind} request is allowed`);
  }
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

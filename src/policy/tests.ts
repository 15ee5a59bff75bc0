/** Running a policy's own tests with the shared evaluator. */

import { runPolicyTests, type TestRunResult } from "../acl/policy_tests.ts";
import { type DenialReason, explainDenial } from "../acl/explain.ts";
import { loadValidPolicy, type PolicyInput } from "./source.ts";
import { requestOf } from "./diff.ts";

/** The tests of one policy and their results. */
export interface PolicyTestOutcome {
  name: string;
  run: TestRunResult;
  /**
   * For each outcome (same order), why a denial by default happened when an allow rule was
   * close (a missing claim or client id, the QoS, retain); null otherwise.
   */
  why: (DenialReason | null)[];
}

/** Runs the tests of a policy; `PolicyInvalidError` when it has errors. */
export async function testPolicy(input: { policy: PolicyInput }): Promise<PolicyTestOutcome> {
  const loaded = await loadValidPolicy(input.policy);
  const run = runPolicyTests(loaded.policy, loaded.compiled, loaded.lineOf);
  const tests = loaded.policy.tests ?? [];
  const why = run.outcomes.map((outcome) =>
    outcome.passed ? null : explainDenial(
      loaded.compiled,
      requestOf(tests[outcome.index]),
      outcome.decision,
    )
  );
  return { name: loaded.name, run, why };
}

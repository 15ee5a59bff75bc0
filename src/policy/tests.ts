/** Running a policy's own tests with the shared evaluator. */

import { runPolicyTests, type TestRunResult } from "../acl/policy_tests.ts";
import { loadValidPolicy, type PolicyInput } from "./source.ts";

/** The tests of one policy and their results. */
export interface PolicyTestOutcome {
  name: string;
  run: TestRunResult;
}

/** Runs the tests of a policy; `PolicyInvalidError` when it has errors. */
export async function testPolicy(input: { policy: PolicyInput }): Promise<PolicyTestOutcome> {
  const loaded = await loadValidPolicy(input.policy);
  return { name: loaded.name, run: runPolicyTests(loaded.policy, loaded.compiled, loaded.lineOf) };
}

/**
 * Runs a policy's `tests`: each expected decision against the real evaluator, with the
 * explanation of every failure and the rules no test exercised.
 */

import type { AclRequest, Decision, Effect, Policy } from "./types.ts";
import type { CompiledPolicy } from "./compile.ts";
import { evaluate } from "./evaluate.ts";
import { describeDecision } from "./explain.ts";

/** One test's result. */
export interface TestOutcome {
  index: number;
  name: string;
  pointer: string;
  line: number | null;
  passed: boolean;
  expect: Effect;
  decision: Decision;
  /** The decision in words, e.g. `Denied - no rule matches (default: deny)`. */
  explanation: string;
}

/** A rule no test's request applied to. */
export interface UnexercisedRule {
  path: string;
  pointer: string;
  line: number | null;
  topic: string;
}

/** All tests' results. */
export interface TestRunResult {
  outcomes: TestOutcome[];
  passed: number;
  failed: number;
  unexercised: UnexercisedRule[];
}

/** Runs `policy.tests` against `compiled` (the same policy, compiled). */
export function runPolicyTests(
  policy: Policy,
  compiled: CompiledPolicy,
  lineOf: (pointer: string) => number | null = () => null,
): TestRunResult {
  const exercised = new Set<string>();
  const outcomes: TestOutcome[] = (policy.tests ?? []).map((test, index) => {
    const request: AclRequest = {
      client: test.client,
      action: test.action,
      topic: test.topic,
      qos: test.qos,
      retain: test.retain,
    };
    const decision = evaluate(compiled, request, { trace: true });
    for (const entry of decision.trace ?? []) if (entry.applies) exercised.add(entry.pointer);
    const pointer = `/tests/${index}`;
    return {
      index,
      name: test.name,
      pointer,
      line: lineOf(pointer),
      passed: decision.decision === test.expect,
      expect: test.expect,
      decision,
      explanation: describeDecision(decision, request),
    };
  });
  const passed = outcomes.filter((outcome) => outcome.passed).length;
  const unexercised = compiled.rules
    .filter((rule) => !exercised.has(rule.pointer))
    .map((rule) => ({
      path: rule.path,
      pointer: rule.pointer,
      line: rule.line,
      topic: rule.topic,
    }));
  return { outcomes, passed, failed: outcomes.length - passed, unexercised };
}

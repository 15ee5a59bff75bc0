import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { compilePolicy } from "../../src/acl/compile.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import { SCAN_LIMIT } from "../../src/acl/rule_scan.ts";
import { validatePolicyDocument } from "../../src/acl/validate.ts";
import { filterContains, topicError } from "../../src/acl/topic.ts";
import type { AclRequest, Policy, Publisher, Rule } from "../../src/acl/types.ts";
import {
  bruteForceContains,
  referenceContains,
  referenceEvaluate,
} from "./support/reference_evaluator.ts";

const RULE_LEVELS = [
  "a",
  "b",
  "",
  "+",
  "$SYS",
  "{$self}",
  "{$self.k2}",
  "{username}",
  "{client_id}",
  "{org_id}",
  "{chan}",
  "p-{$self}",
  "{chan}-x",
  "{k1}",
  "$q-{chan}",
];

const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

function ruleTopic(levels: string[], hash: boolean): string {
  return [...levels, ...(hash ? ["#"] : [])].join("/") || "#";
}

const ruleArbitrary: fc.Arbitrary<Rule> = fc.record({
  levels: fc.array(fc.constantFrom(...RULE_LEVELS), { minLength: 1, maxLength: 4 }),
  hash: fc.boolean(),
  action: fc.constantFrom("sub", "pub", "pub+sub") as fc.Arbitrary<Rule["action"]>,
  binding: maybe(fc.constantFrom("k1", "chans")),
  user: maybe(fc.constantFrom("*", "u1", "u-*", "u")),
  effect: maybe(fc.constantFrom("allow", "deny")) as fc.Arbitrary<Rule["effect"]>,
  qos: maybe(fc.subarray([0, 1, 2] as (0 | 1 | 2)[], { minLength: 1 })),
  retain: maybe(fc.boolean()),
  require_grant: maybe(fc.boolean()),
}).map(({ levels, hash, ...rest }) => {
  const rule: Rule = { topic: ruleTopic(levels, hash), action: rest.action };
  if (rest.binding) rule.binding = rest.binding;
  if (rule.topic.includes("{$self}") && !rule.binding) rule.binding = "k1";
  if (rest.require_grant) {
    rule.require_grant = true;
    rule.binding ??= "chans";
  }
  if (rest.user) rule.user = rest.user;
  if (rest.effect) rule.effect = rest.effect;
  if (rest.qos) rule.qos = rest.qos;
  if (rest.retain !== undefined) rule.retain = rest.retain;
  return rule;
});

const publisherArbitrary: fc.Arbitrary<Publisher> = fc.record({
  identity: fc.constantFrom("*", "u1", "u-*"),
  topics: fc.array(
    fc.tuple(
      fc.array(fc.constantFrom("a", "b", "", "+", "{username}", "$SYS"), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.boolean(),
    ).map(([levels, hash]) => ruleTopic(levels, hash)),
    { minLength: 1, maxLength: 2 },
  ),
  qos: maybe(fc.subarray([0, 1, 2] as (0 | 1 | 2)[], { minLength: 1 })),
  retain: maybe(fc.boolean()),
}).map((publisher) => {
  const out: Publisher = { identity: publisher.identity, topics: publisher.topics };
  if (publisher.qos) out.qos = publisher.qos;
  if (publisher.retain !== undefined) out.retain = publisher.retain;
  return out;
});

const policyArbitrary: fc.Arbitrary<Policy> = fc.record({
  default: fc.constantFrom("deny", "allow") as fc.Arbitrary<Policy["default"]>,
  global: fc.array(ruleArbitrary, { maxLength: 3 }),
  rules: fc.array(ruleArbitrary, { maxLength: 5 }),
  publishers: fc.array(publisherArbitrary, { maxLength: 2 }),
}).map((parts) => ({ version: "2.2", ...parts }) as Policy);

const CLAIM_VALUES = [
  "a",
  "b",
  "a,b",
  " a , c",
  "\u00a0a ,\u3000c\t",
  ",b,",
  "",
  "a/b",
  "+",
  "#",
  "\u0000x",
  "$SYS",
  "p-a",
  "c",
];
const REQUEST_LEVELS = ["a", "b", "c", "", "p-a", "a-x", "$SYS", "$q-a", "x"];

const requestArbitrary: fc.Arbitrary<AclRequest> = fc.record({
  username: fc.constantFrom("u1", "u-2", "u", "x", ""),
  client_id: maybe(fc.constantFrom("a", "+", "$x", "", "b")),
  org_id: maybe(fc.constantFrom("a", "o")),
  claims: fc.record({
    k1: maybe(fc.constantFrom(...CLAIM_VALUES)),
    k2: maybe(fc.constantFrom(...CLAIM_VALUES)),
    chans: maybe(fc.constantFrom(...CLAIM_VALUES)),
  }),
  action: fc.constantFrom("pub", "sub") as fc.Arbitrary<"pub" | "sub">,
  levels: fc.array(fc.constantFrom(...REQUEST_LEVELS, "+", "#"), { minLength: 1, maxLength: 5 }),
  shared: fc.boolean(),
  qos: maybe(fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>),
  retain: maybe(fc.boolean()),
}).map((r) => {
  const claims: Record<string, string> = {};
  for (const [key, value] of Object.entries(r.claims)) if (value !== undefined) claims[key] = value;
  const client: AclRequest["client"] = { username: r.username, claims };
  if (r.client_id !== undefined) client.client_id = r.client_id;
  if (r.org_id !== undefined) client.org_id = r.org_id;
  const topic = (r.shared && r.action === "sub" ? "$share/g/" : "") + r.levels.join("/");
  return { client, action: r.action, topic, qos: r.qos, retain: r.retain };
});

/** A made-up line per pointer, so that records must carry each rule's own line. */
function fakeLine(pointer: string): number {
  let line = 7;
  for (let k = 0; k < pointer.length; k++) line = (line * 31 + pointer.charCodeAt(k)) % 9973;
  return line + 1;
}

function summary(decision: ReturnType<typeof evaluate>) {
  return {
    decision: decision.decision,
    reason: decision.reason,
    pointer: decision.matched?.pointer ?? null,
    granted_qos: decision.granted_qos,
    resolved_topic: decision.matched?.resolved_topic ?? null,
  };
}

Deno.test("property: scanned, indexed, traced and reference evaluators agree on random policies", () => {
  let decisions = 0;
  let validPolicies = 0;
  fc.assert(
    fc.property(
      policyArbitrary,
      fc.array(requestArbitrary, { minLength: 20, maxLength: 20 }),
      (policy, requests) => {
        if (!validatePolicyDocument(policy).valid) return;
        validPolicies++;
        const compiled = compilePolicy(policy, { lineOf: fakeLine });
        // These policies are small, so they are scanned; the same rules through the index too.
        assert.notEqual(compiled.scan, null);
        const throughIndex = { ...compiled, scan: null };
        for (const request of requests) {
          const scanned = evaluate(compiled, request);
          const fast = summary(scanned);
          const indexed = evaluate(throughIndex, request);
          const traced = evaluate(compiled, request, { trace: true });
          const reference = referenceEvaluate(policy, request);
          decisions++;
          assert.deepEqual(fast, reference, JSON.stringify({ policy, request }));
          assert.deepEqual(summary(indexed), fast, JSON.stringify({ policy, request }));
          assert.deepEqual(summary(traced), fast);
          // The index reads the matched rule from its record, the scan and the trace from its
          // object.
          assert.deepEqual(scanned.matched, traced.matched);
          assert.deepEqual(indexed.matched, traced.matched);
          const applying = traced.trace!.filter((entry) => entry.applies).length;
          assert.equal(applying > 0, fast.reason === "rule" || fast.reason === "deny_rule");
        }
      },
    ),
    { numRuns: 2500, seed: 20261123 },
  );
  assert.ok(validPolicies > 1500, `only ${validPolicies} random policies were valid`);
  assert.ok(decisions > 30_000);
});

/** Rules that are valid on their own, so that long lists of them often make a valid policy. */
const validRuleArbitrary = ruleArbitrary.filter((rule) =>
  validatePolicyDocument({ version: "2.2", default: "deny", rules: [rule] }).valid
);

Deno.test("property: policies on both sides of the scan limit decide as the reference", () => {
  const scanned = [0, 0];
  fc.assert(
    fc.property(
      fc.array(validRuleArbitrary, { minLength: SCAN_LIMIT - 6, maxLength: SCAN_LIMIT + 6 }),
      fc.array(requestArbitrary, { minLength: 30, maxLength: 30 }),
      (rules, requests) => {
        const policy: Policy = { version: "2.2", default: "deny", rules };
        if (!validatePolicyDocument(policy).valid) return;
        const compiled = compilePolicy(policy);
        assert.equal(compiled.scan !== null, rules.length <= SCAN_LIMIT);
        scanned[compiled.scan === null ? 0 : 1]++;
        for (const request of requests) {
          assert.deepEqual(
            summary(evaluate(compiled, request)),
            referenceEvaluate(policy, request),
            JSON.stringify({ rules: rules.length, request }),
          );
        }
      },
    ),
    { numRuns: 300, seed: 20261204 },
  );
  assert.ok(scanned[0] > 80 && scanned[1] > 80, `valid policies indexed, scanned: ${scanned}`);
});

Deno.test("property: reordering rules never changes a decision", () => {
  fc.assert(
    fc.property(
      policyArbitrary,
      fc.array(requestArbitrary, { minLength: 10, maxLength: 10 }),
      fc.integer(),
      (policy, requests, seed) => {
        if (!validatePolicyDocument(policy).valid) return;
        const shuffled = structuredClone(policy);
        const random = (n: number) => Math.abs(seed = (seed * 1103515245 + 12345) | 0) % n;
        for (const list of [shuffled.rules!, shuffled.global!]) {
          for (let i = list.length - 1; i > 0; i--) {
            const j = random(i + 1);
            [list[i], list[j]] = [list[j], list[i]];
          }
        }
        const a = compilePolicy(policy);
        const b = compilePolicy(shuffled);
        for (const request of requests) {
          const x = evaluate(a, request);
          const y = evaluate(b, request);
          assert.equal(x.decision, y.decision);
          assert.equal(x.reason, y.reason);
          assert.equal(x.granted_qos, y.granted_qos);
        }
      },
    ),
    { numRuns: 800, seed: 7 },
  );
});

const filterArbitrary = fc.tuple(
  fc.array(fc.constantFrom("a", "b", "", "+", "$s"), { minLength: 1, maxLength: 3 }),
  fc.boolean(),
).map(([levels, hash]) => [...levels, ...(hash ? ["#"] : [])].join("/"))
  .filter((filter) => topicError(filter, "filter") === null);

Deno.test("property: filter containment agrees with a brute-force oracle", () => {
  let contained = 0;
  fc.assert(
    fc.property(filterArbitrary, filterArbitrary, (outer, inner) => {
      const oracle = bruteForceContains(outer, inner);
      assert.equal(filterContains(outer, inner), oracle, `${outer} ⊇ ${inner}`);
      assert.equal(referenceContains(outer, inner), oracle, `reference: ${outer} ⊇ ${inner}`);
      if (oracle) contained++;
    }),
    { numRuns: 5000, seed: 42 },
  );
  assert.ok(contained > 200, `only ${contained} contained pairs: the generator is too narrow`);
});

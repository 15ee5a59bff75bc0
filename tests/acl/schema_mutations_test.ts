/**
 * Every schema-invalid policy gets located findings, never an exception: generated mutations
 * of every example policy (null, other types, other enumerated values, missing and extra
 * members at every position), and random chains of them with arbitrary JSON, through the
 * validator, the compiler and the policy-test runner. The schema's verdict is checked against
 * a second, independent JSON Schema 2020-12 implementation (@hyperjump/json-schema).
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import validateSchema from "../../src/acl/generated/policy_schema_validator.js";
import {
  compilePolicy,
  PolicyCompileError,
  runPolicyTests,
  validatePolicyDocument,
  validatePolicyText,
} from "../../src/acl/mod.ts";
import {
  exampleMutations,
  examplePolicies,
  mutationsOf,
  type PolicyMutation,
} from "../support/policy_mutations.ts";
import { assertLocatedFindings } from "../support/finding_checks.ts";
import { independentlyValid } from "../support/independent_schema.ts";

/** Runs a document through every local stage and checks what each stage promises. */
function checkDocument(label: string, document: unknown, mutated?: string): void {
  const text = JSON.stringify(document, null, 2);
  const schemaValid = validateSchema(document);
  const result = validatePolicyText(text);
  if (!schemaValid) assert.equal(result.valid, false, `${label}: schema-invalid but valid`);
  if (!result.valid) assertLocatedFindings(label, text, document, result.findings, mutated);
  // The API's simulate validates the parsed document: the same verdict.
  assert.equal(validatePolicyDocument(document).valid, result.valid, label);
  if (result.valid) {
    const compiled = compilePolicy(result.policy!);
    runPolicyTests(result.policy!, compiled);
    return;
  }
  // Compiling an unvalidated document refuses with a coded error, never a TypeError.
  try {
    compilePolicy(document as Parameters<typeof compilePolicy>[0]);
  } catch (error) {
    if (!(error instanceof PolicyCompileError)) {
      throw new Error(`${label}: compilePolicy threw ${error}`);
    }
    assert.ok(error.code !== "" && typeof error.pointer === "string", label);
  }
}

function relatedPointer(mutation: PolicyMutation): string | undefined {
  // Another version or action may break rules elsewhere; every other change is reported at
  // its own place (or at the object that holds it).
  return mutation.kind === "enum_value" ? undefined : mutation.pointer;
}

const MUTATIONS = await exampleMutations();

Deno.test("the examples are valid, so every finding below comes from a mutation", async () => {
  for (const [source, document] of await examplePolicies()) {
    const result = validatePolicyText(JSON.stringify(document, null, 2));
    assert.ok(result.valid, `${source}: ${JSON.stringify(result.findings)}`);
  }
  assert.ok(MUTATIONS.length > 5000, `only ${MUTATIONS.length} mutations`);
  for (const kind of ["null", "wrong_type", "enum_value", "missing_member", "extra_member"]) {
    assert.ok(MUTATIONS.some((mutation) => mutation.kind === kind), kind);
  }
});

Deno.test("the policies of issue 14 that crashed get located findings", () => {
  const base = { version: "2.2", default: "deny" };
  const crashed: [string, unknown, string][] = [
    ["null in global", { ...base, global: [null] }, "/global/0"],
    ["null in rules", { ...base, rules: [null] }, "/rules/0"],
    ["publisher not an object", { ...base, publishers: ["backend"] }, "/publishers/0"],
    ["publisher without topics", { ...base, publishers: [{ identity: "b" }] }, "/publishers/0"],
    [
      "publisher topics not a list",
      { ...base, publishers: [{ identity: "b", topics: "alerts/#" }] },
      "/publishers/0/topics",
    ],
  ];
  for (const [label, document, pointer] of crashed) {
    checkDocument(label, document, pointer);
    const finding = validatePolicyDocument(document).findings[0];
    assert.equal(finding.pointer, pointer, label);
  }
});

Deno.test("every generated mutation of the examples gets located findings, never an exception", () => {
  let invalid = 0;
  for (const mutation of MUTATIONS) {
    checkDocument(mutation.label, mutation.document, relatedPointer(mutation));
    if (!validateSchema(mutation.document)) invalid++;
  }
  // Most mutations break the schema; the rest (an optional member removed, another valid
  // value) must pass or fail the semantic checks without an exception.
  assert.ok(invalid > MUTATIONS.length / 2, `${invalid} of ${MUTATIONS.length} invalid`);
});

Deno.test("a second JSON Schema implementation agrees on every generated mutation", () => {
  const disagreements = MUTATIONS.filter((mutation) =>
    validateSchema(mutation.document) !== independentlyValid(mutation.document)
  ).map((mutation) => mutation.label);
  assert.deepEqual(disagreements, []);
});

const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** A chain of one to four mutations, some replacing a value with arbitrary JSON. */
const mutatedExample = fc.record({
  example: fc.nat(),
  steps: fc.array(fc.record({ pick: fc.nat(), arbitrary: fc.option(jsonValue) }), {
    minLength: 1,
    maxLength: 4,
  }),
});

Deno.test("random chains of mutations and arbitrary JSON: findings, no exception, one verdict", async () => {
  const examples = [...(await examplePolicies()).entries()];
  fc.assert(
    fc.property(mutatedExample, ({ example, steps }) => {
      const [source, start] = examples[example % examples.length];
      let document: unknown = start;
      const labels: string[] = [];
      for (const { pick, arbitrary } of steps) {
        const options = [...mutationsOf(source, document)];
        if (options.length === 0) break;
        const chosen = options[pick % options.length];
        document = chosen.document;
        if (arbitrary !== null && chosen.kind !== "missing_member") {
          document = replaceAt(document, chosen.pointer, arbitrary);
          labels.push(`${JSON.stringify(arbitrary)} at ${chosen.pointer || "(root)"}`);
        } else labels.push(chosen.label);
      }
      const label = labels.join(", then ");
      checkDocument(label, document);
      assert.equal(validateSchema(document), independentlyValid(document), label);
    }),
    { numRuns: 400 },
  );
});

function replaceAt(document: unknown, pointer: string, value: unknown): unknown {
  if (pointer === "") return value;
  const copy = structuredClone(document) as Record<string, unknown>;
  const tokens = pointer.slice(1).split("/").map((token) =>
    token.replace(/~1/g, "/").replace(/~0/g, "~")
  );
  let holder: Record<string, unknown> = copy;
  for (const token of tokens.slice(0, -1)) holder = holder[token] as Record<string, unknown>;
  holder[tokens.at(-1)!] = value;
  return copy;
}

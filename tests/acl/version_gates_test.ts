/**
 * The schema carries every version gate of docs/policy-reference.md: each gated feature, in
 * every place it can appear, is refused by the JSON Schema alone (ajv and an independent
 * implementation agree) in the versions before it and accepted from its version on, and the
 * validator reports `requires_version` at the feature.
 */

import assert from "node:assert/strict";
import validateSchema from "../../src/acl/generated/policy_schema_validator.js";
import { validatePolicyDocument } from "../../src/acl/mod.ts";
import type { PolicyVersion } from "../../src/acl/types.ts";
import { independentlyValid } from "../support/independent_schema.ts";

const VERSIONS: PolicyVersion[] = ["2", "2.1", "2.2"];

interface Gate {
  feature: string;
  since: PolicyVersion;
  /** Where the feature is in `document`. */
  pointer: string;
  document: (version: PolicyVersion) => Record<string, unknown>;
}

const RULE_FEATURES_2_2: [string, unknown][] = [
  ["user", "ops-*"],
  ["effect", "deny"],
  ["qos", [0, 1]],
  ["retain", false],
  ["require_grant", true],
];

function gates(): Gate[] {
  const list: Gate[] = [];
  const policy = (version: PolicyVersion, rest: Record<string, unknown>) => ({
    version,
    default: "deny",
    ...rest,
  });
  for (const section of ["global", "rules"]) {
    for (const [field, value] of RULE_FEATURES_2_2) {
      list.push({
        feature: `${section}[].${field}`,
        since: "2.2",
        pointer: `/${section}/0/${field}`,
        document: (version) =>
          policy(version, {
            [section]: [{
              topic: "chat/{room}/in",
              action: "pub",
              binding: "rooms",
              [field]: value,
            }],
          }),
      });
    }
    for (
      const [name, topic] of [["{$self}", "a/{$self}/b"], ["{$self.<claim>}", "a/{$self.team}"]]
    ) {
      list.push({
        feature: `${name} in ${section}[].topic`,
        since: "2.1",
        pointer: `/${section}/1/topic`,
        document: (version) =>
          policy(version, {
            [section]: [{ topic: "x/y", action: "sub" }, { topic, action: "sub", binding: "k" }],
          }),
      });
    }
  }
  for (const [field, value] of [["qos", [0]], ["retain", false]] as const) {
    list.push({
      feature: `publishers[].${field}`,
      since: "2.2",
      pointer: `/publishers/0/${field}`,
      document: (version) =>
        policy(version, {
          publishers: [{ identity: "backend-*", topics: ["n/#"], [field]: value }],
        }),
    });
  }
  list.push({
    feature: "{$self.<claim>} in publishers[].topics",
    since: "2.1",
    pointer: "/publishers/0/topics/1",
    document: (version) =>
      policy(version, {
        publishers: [{ identity: "backend-*", topics: ["alerts/#", "alerts/{$self.team}/x"] }],
      }),
  });
  list.push({
    feature: "tests",
    since: "2.2",
    pointer: "/tests",
    document: (version) =>
      policy(version, {
        rules: [{ topic: "a", action: "pub" }],
        tests: [{
          name: "t",
          client: { username: "u" },
          action: "pub",
          topic: "a",
          expect: "allow",
        }],
      }),
  });
  return list;
}

Deno.test("the schema alone refuses every gated feature before its version", () => {
  for (const gate of gates()) {
    for (const version of VERSIONS) {
      const allowed = VERSIONS.indexOf(version) >= VERSIONS.indexOf(gate.since);
      const document = gate.document(version);
      const label = `${gate.feature} in version ${version}`;
      assert.equal(validateSchema(document), allowed, `${label} (ajv)`);
      assert.equal(independentlyValid(document), allowed, `${label} (@hyperjump/json-schema)`);
      if (!allowed) {
        assert.ok(
          validateSchema.errors?.some((error) =>
            error.instancePath === gate.pointer && (error.keyword === "not" ||
              error.keyword === "false schema")
          ),
          `${label}: ${JSON.stringify(validateSchema.errors)}`,
        );
      }
      const result = validatePolicyDocument(document);
      assert.equal(result.valid, allowed, `${label}: ${JSON.stringify(result.findings)}`);
      if (!allowed) {
        assert.ok(
          result.findings.some((finding) =>
            finding.code === "requires_version" && finding.pointer === gate.pointer
          ),
          `${label}: ${JSON.stringify(result.findings)}`,
        );
      }
    }
  }
});

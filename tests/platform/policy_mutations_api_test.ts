/**
 * The platform's API answers every generated mutation of the example policies with a 422
 * and located findings (or, for a still-valid policy, its usual answer), never a 500:
 * `PUT /v2/acl/policy`, `POST /v2/acl/validate` and `POST /v2/acl/simulate` with a policy.
 */

import assert from "node:assert/strict";
import { validatePolicyText } from "../../src/acl/mod.ts";
import { exampleMutations, type PolicyMutation } from "../support/policy_mutations.ts";
import { assertLocatedFindings, type LocatedFinding } from "../support/finding_checks.ts";
import { api, assertSchema, login, startTestPlatform } from "./support.ts";

/** Mutations of rules and publishers themselves (the ones that crashed), then every 23rd. */
function sample(mutations: PolicyMutation[]): PolicyMutation[] {
  const element = /^\/(global|rules|publishers)\/\d+(\/topics)?$/;
  return mutations.filter((mutation, i) =>
    (element.test(mutation.pointer) && mutation.kind !== "enum_value") || i % 23 === 0
  );
}

const MUTATIONS = sample(await exampleMutations());

const REQUEST = { client: { username: "scout", claims: { team: "a" } }, action: "pub", topic: "a" };

function summary(findings: LocatedFinding[]): string[] {
  return findings.map((finding) => `${finding.severity} ${finding.code} ${finding.pointer}`);
}

Deno.test("every generated invalid policy gets 422 with located findings from the API, never 500", async () => {
  const t = await startTestPlatform();
  try {
    const { access_token: token } = await login(t.platform.apiUrl);
    const call = (method: string, path: string, body: string, headers = {}) =>
      api(t.platform.apiUrl, token, method, path, body, headers);
    let rejected = 0;
    for (const mutation of MUTATIONS) {
      const { label, document } = mutation;
      const mutated = mutation.kind === "enum_value" ? undefined : mutation.pointer;
      const text = JSON.stringify(document, null, 2);
      const local = validatePolicyText(text);
      const put = await call("PUT", "/v2/acl/policy", text, { "if-match": "*" });
      const validate = await call("POST", "/v2/acl/validate", text);
      const simulateText = JSON.stringify({ request: REQUEST, policy: document }, null, 2);
      const simulate = await call("POST", "/v2/acl/simulate", simulateText);
      const statuses =
        `PUT ${put.status}, validate ${validate.status}, simulate ${simulate.status}`;
      if (!local.valid) {
        rejected++;
        for (const [name, result] of [["PUT", put], ["validate", validate]] as const) {
          assert.equal(result.status, 422, `${label}: ${name} answered ${result.text}`);
          assertSchema("InvalidPolicyError", result.body);
          assert.equal(result.body.error, "invalid_policy", label);
          assertLocatedFindings(
            `${label} (${name})`,
            text,
            document,
            result.body.findings,
            mutated,
          );
          assert.deepEqual(summary(result.body.findings), summary(local.findings), label);
        }
        assert.equal(simulate.status, 422, `${label}: simulate answered ${simulate.text}`);
        assertSchema("InvalidPolicyError", simulate.body);
        assertLocatedFindings(
          `${label} (simulate)`,
          simulateText,
          document,
          simulate.body.findings,
          mutated,
        );
        assert.deepEqual(summary(simulate.body.findings), summary(local.findings), label);
      } else {
        assert.ok(
          put.status === 200 ||
            (put.status === 422 && put.body.error === "policy_tests_failed"),
          `${label}: ${statuses}: ${put.text}`,
        );
        assert.equal(validate.status, 200, `${label}: ${statuses}`);
        assert.equal(simulate.status, 200, `${label}: ${statuses}`);
        assertSchema("Decision", simulate.body);
      }
    }
    assert.ok(rejected > MUTATIONS.length / 2, `${rejected} of ${MUTATIONS.length} rejected`);
    assert.deepEqual(t.logs.filter((line) => / 500 |internal error/.test(line)), []);
  } finally {
    await t.close();
  }
});

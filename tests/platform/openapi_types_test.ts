/**
 * schemas/openapi.json and the ACL engine agree: the engine's Decision and Finding types are
 * assignable to the generated API types, and real values validate against the schemas.
 */

import assert from "node:assert/strict";
import type { Decision as AclDecision, Finding as AclFinding } from "../../src/acl/types.ts";
import { compilePolicy, evaluate, validatePolicyText } from "../../src/acl/mod.ts";
import type { Decision, Finding } from "../../src/api/openapi_types.ts";
import openapi from "../../schemas/openapi.json" with { type: "json" };
import { assertSchema } from "./support.ts";

const asApiDecision = (decision: AclDecision): Decision => decision;
const asApiFinding = (finding: AclFinding): Finding => finding;

Deno.test("evaluator decisions and validator findings match the OpenAPI schemas", () => {
  const policy = {
    version: "2.2" as const,
    default: "deny" as const,
    rules: [{ topic: "agents/{$self}/card", action: "pub+sub" as const, binding: "agent_id" }],
  };
  const compiled = compilePolicy(policy);
  for (const topic of ["agents/scout/card", "agents/bob/card", "bad/#"]) {
    const decision = evaluate(compiled, {
      client: { username: "scout", claims: { agent_id: "scout" } },
      action: "pub",
      topic,
    }, { trace: true });
    assertSchema("Decision", asApiDecision(decision));
  }
  const findings = validatePolicyText(
    '{"version": "2.2", "default": "allow", "global": [{"topic": "#", "action": "sub"}]}',
  ).findings;
  assert.ok(findings.length > 0);
  for (const finding of findings) assertSchema("Finding", asApiFinding(finding));
});

Deno.test("every path of the contract is in the OpenAPI document", () => {
  const paths = Object.keys(openapi.paths).sort();
  assert.deepEqual(paths, [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/oauth/authorize",
    "/oauth/revoke",
    "/oauth/token",
    "/v2/acl/policy",
    "/v2/acl/revisions",
    "/v2/acl/revisions/{revision}",
    "/v2/acl/simulate",
    "/v2/acl/validate",
    "/v2/me",
    "/v2/users",
    "/v2/users/{id}/claims",
    "/v2/users/{id}/claims/{key}",
  ]);
  assert.equal(openapi.openapi, "3.1.0");
});

/**
 * The shapes tools take and return, as zod schemas (the SDK turns them into the JSON Schemas
 * of `tools/list` and checks every call and every structured result against them). They
 * follow the operations' result types and `schemas/openapi.json`.
 */

import * as z from "./zod.ts";

/** A JSON object whose keys are not listed (a policy, a value inside a diff). */
export const jsonObject = z.record(z.string(), z.unknown());

/** MQTT QoS levels. */
export const qos = z.literal([0, 1, 2], { error: "expected 0, 1 or 2" });

/** Allow or deny. */
export const effect = z.enum(["allow", "deny"]);

/** The organization the credentials belong to. */
export const organization = z.object({ id: z.string(), short_id: z.string(), name: z.string() });

/** One validation finding with its place in the policy text. */
export const finding = z.object({
  severity: z.enum(["error", "warning"]),
  code: z.string().describe("stable identifier, listed in the policy reference"),
  path: z.string().describe("human path, e.g. rules[1]"),
  pointer: z.string().describe("JSON pointer of the value"),
  message: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  stage: z.enum(["local", "server"]).optional(),
});

/** The rule that decided a request. */
export const matchedRule = z.object({
  section: z.enum(["global", "rules", "publishers"]),
  index: z.number().int(),
  pointer: z.string(),
  line: z.number().int().nullable(),
  topic: z.string(),
  resolved_topic: z.string(),
});

/** The evaluator's decision, with every rule's verdict when a trace was asked for. */
export const decision = z.object({
  decision: effect,
  reason: z.enum(["rule", "deny_rule", "default", "invalid_topic"]),
  matched: matchedRule.nullable(),
  granted_qos: qos.nullable(),
  detail: z.string().optional(),
  default: effect,
  trace: z.array(z.object({
    pointer: z.string(),
    applies: z.boolean(),
    effect,
    why: z.string(),
  })).optional(),
});

/** The identity of a simulated client. */
export const clientIdentity = z.object({
  username: z.string(),
  client_id: z.string().optional(),
  org_id: z.string().optional(),
  org_short_id: z.string().optional(),
  claims: z.record(z.string(), z.string()).optional(),
});

/** A hypothetical PUBLISH or SUBSCRIBE. */
export const aclRequest = z.object({
  client: clientIdentity,
  action: z.enum(["pub", "sub"]),
  topic: z.string(),
  qos: qos.optional(),
  retain: z.boolean().optional(),
});

/** The fields every tool that reads a policy returns: its name and the local findings. */
export const checkedPolicy = {
  policy_name: z.string().describe("the file path as given, or the inline policy's name"),
  valid: z.boolean().describe("false: the policy has errors (in findings) and was not used"),
  findings: z.array(finding).describe("errors when not valid; warnings otherwise"),
};

/** A test decision that differs between two policies. */
export const decisionChange = z.object({ name: z.string(), from: effect, to: effect });

const placed = z.object({ index: z.number().int(), value: jsonObject });

/** What differs between two policies. */
export const policyDiff = z.object({
  fields: z.array(z.object({
    field: z.string(),
    from: z.unknown().optional().describe("absent: the field was not set"),
    to: z.unknown().optional().describe("absent: the field is removed"),
  })),
  sections: z.array(z.object({
    section: z.enum(["global", "rules", "publishers"]),
    added: z.array(placed),
    removed: z.array(placed),
    changed: z.array(z.object({ from: placed, to: placed, fields: z.array(z.string()) })),
  })),
  tests: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
  }),
  reordered_only: z.boolean(),
  identical: z.boolean(),
});

/** One policy test's result, as `acl test --json` shows it. */
export const testOutcome = z.object({
  name: z.string(),
  pointer: z.string(),
  line: z.number().int().nullable(),
  passed: z.boolean(),
  expect: effect,
  decision: effect,
  reason: decision.shape.reason,
  explanation: z.string(),
  matched: matchedRule.nullable(),
});

/** A policy's test run. */
export const testRun = z.object({
  passed: z.number().int(),
  failed: z.number().int(),
  tests: z.array(testOutcome),
  unexercised: z.array(z.object({
    path: z.string(),
    pointer: z.string(),
    line: z.number().int().nullable(),
    topic: z.string(),
  })).describe("rules no test's request applied to"),
});

/** A user of the organization. */
export const user = z.object({ id: z.string(), username: z.string(), email: z.string() });

/** A user's claims. */
export const userClaims = z.object({
  user_id: z.string(),
  username: z.string(),
  claims: z.record(z.string(), z.string()),
});

/** The input naming a policy: JSON text or a file path, exactly one. */
export const policySource = {
  policy: z.string().optional().describe(
    "the policy as JSON text (give this or policy_path)",
  ),
  policy_path: z.string().min(1).optional().describe(
    "path of a policy JSON file on this machine (give this or policy)",
  ),
};

/**
 * The tools that check a policy: `acl_validate`, `acl_simulate`, `acl_test`, `acl_diff`. A
 * policy with errors is answered with its findings (`valid: false`), not with an error.
 */

import * as z from "../zod.ts";
import { step } from "../../core/context.ts";
import { PLAIN } from "../../core/text_style.ts";
import { PolicyInvalidError } from "../../policy/errors.ts";
import {
  aclRequest,
  checkedPolicy,
  decision,
  decisionChange,
  organization,
  policyDiff,
  policySource,
  qos,
  testRun,
} from "../schemas.ts";
import { invalidPolicy, optionalPolicyInput, policyInput } from "../policy_input.ts";
import { API_READ, defineTool, LOCAL_READ } from "../tool.ts";
import { revisionNumber } from "./policy_read.ts";

/** Runs `work`; a `PolicyInvalidError` becomes the invalid-policy result. */
async function orFindings<T>(
  what: string,
  empty: Omit<T, "policy_name" | "valid" | "findings">,
  work: () => Promise<{ structured: T; summary: string }>,
): Promise<{ structured: T; summary: string }> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof PolicyInvalidError)) throw error;
    const { fields, summary } = await invalidPolicy(error, what);
    return { structured: { ...empty, ...fields } as T, summary };
  }
}

/** `acl_validate`: findings of both stages. */
export const validateTool = defineTool({
  name: "acl_validate",
  title: "Validate a policy",
  description:
    "Checks an ACL policy and lists every finding with its code, JSON pointer, line and " +
    "column and severity: first the local checks (JSON Schema and semantics, offline), " +
    "then, when those found no errors, the server's checks against the organization " +
    "(claims no user has, selectors that match nobody). Use it after every edit of a " +
    "policy, before acl_update_policy. local_only skips the server (no login needed).",
  input: z.strictObject({
    ...policySource,
    local_only: z.boolean().optional().describe("skip the server stage (no network)"),
  }),
  output: z.object({
    ...checkedPolicy,
    valid: z.boolean().describe("no errors in any stage that ran"),
    counts: z.object({
      global: z.number().int(),
      rules: z.number().int(),
      publishers: z.number().int(),
      tests: z.number().int(),
    }),
    server: z.enum(["checked", "skipped", "blocked", "failed"]).describe(
      "checked: the server stage ran; skipped: local_only; blocked: local errors first; " +
        "failed: it could not run (server_error says why)",
    ),
    server_error: z.string().nullable(),
  }),
  annotations: API_READ,
  writes: false,
  async run({ context }, args) {
    const input = await policyInput(context, args);
    const [{ validatePolicy }, { validationReport }] = await Promise.all([
      import("../../policy/validate.ts"),
      import("../../policy/report.ts"),
    ]);
    const outcome = await validatePolicy(context, { policy: input, localOnly: args.local_only });
    const serverError = outcome.serverError === null
      ? null
      : [outcome.serverError.message, outcome.serverError.hint].filter(Boolean).join("\n");
    const notes = {
      checked: "Checked locally and by the server.",
      skipped: "Checked locally only (local_only).",
      blocked: "The server check did not run: fix the errors first.",
      failed: `The server check did not run: ${serverError}`,
    };
    return {
      structured: {
        policy_name: outcome.name,
        valid: outcome.valid,
        findings: outcome.findings,
        counts: outcome.counts,
        server: outcome.server,
        server_error: serverError,
      },
      summary: validationReport(outcome.name, outcome.findings, outcome.counts, PLAIN) +
        notes[outcome.server],
    };
  },
});

const simulateOutput = z.object({
  policy_name: z.string().nullable().describe("null: the organization's live policy"),
  valid: checkedPolicy.valid,
  findings: checkedPolicy.findings,
  revision: z.number().int().nullable().describe("the live policy's revision, when used"),
  request: aclRequest.nullable(),
  decision: decision.nullable(),
  explanation: z.string().nullable(),
  why: z.string().nullable().describe(
    "for a denial by default: the allow rule that would apply but for a missing claim or " +
      "client id, the QoS or retain, and what is missing",
  ),
  platform_notes: z.array(z.object({ code: z.string(), message: z.string() })).describe(
    "what the local broker of cloudsignal dev does with this request beyond the policy",
  ),
});

/** `acl_simulate`: a decision with the shared evaluator, explained. */
export const simulateTool = defineTool({
  name: "acl_simulate",
  title: "Simulate a publish or subscribe",
  description: "Decides whether a client may PUBLISH to or SUBSCRIBE to a topic, with the same " +
    "evaluator as the broker, and says why (the rule that matched, or the default). Use " +
    "it to check a policy change before making it, or to explain a denied client. Decides " +
    "with a policy given as text or file (offline, cached by content) or with the " +
    "organization's live policy; `user` takes a real user's username and claims (needs a " +
    "login). trace lists every rule's verdict.",
  input: z.strictObject({
    action: z.enum(["pub", "sub"]).describe("pub: PUBLISH to a topic name; sub: SUBSCRIBE"),
    topic: z.string().describe("the topic name (pub) or filter (sub)"),
    qos: qos.optional().describe("requested QoS (default 0)"),
    retain: z.boolean().optional().describe("the publish is retained"),
    username: z.string().optional().describe(
      "MQTT username without @<org>; required unless user is given",
    ),
    client_id: z.string().optional(),
    org_id: z.string().optional(),
    org_short_id: z.string().optional(),
    claims: z.record(z.string(), z.string()).optional().describe(
      "identity claims; override those of user",
    ),
    user: z.string().optional().describe(
      "a user of the organization (id or username) whose username and claims to use",
    ),
    ...policySource,
    trace: z.boolean().optional().describe("also list every rule's verdict"),
  }),
  output: simulateOutput,
  annotations: API_READ,
  writes: false,
  async run({ context, policies }, args) {
    const policy = await optionalPolicyInput(context, args);
    const [{ simulate }, { describeDecision, describeDenial }] = await Promise.all([
      import("../../policy/simulate.ts"),
      import("../../acl/explain.ts"),
    ]);
    const client: Record<string, unknown> = {};
    for (const key of ["username", "client_id", "org_id", "org_short_id", "claims"] as const) {
      if (args[key] !== undefined) client[key] = args[key];
    }
    const cache = policy === undefined ? null : await policies();
    const empty = {
      revision: null,
      request: null,
      decision: null,
      explanation: null,
      why: null,
      platform_notes: [],
    };
    return await orFindings<z.infer<typeof simulateOutput>>("Not simulated", empty, async () => {
      const outcome = await simulate(
        context,
        {
          action: args.action,
          topic: args.topic,
          qos: args.qos,
          retain: args.retain,
          client,
          user: args.user,
          policy,
        },
        {
          loadPolicy: cache
            ? (input) => step(context, "Reading the policy", () => cache.load(input))
            : undefined,
          trace: args.trace === true,
        },
      );
      const explanation = describeDecision(outcome.decision, outcome.request);
      const why = outcome.why === null ? null : describeDenial(outcome.why);
      const where = outcome.source === null
        ? `the live policy (revision ${outcome.revision})`
        : outcome.source;
      return {
        structured: {
          policy_name: outcome.source,
          valid: true,
          findings: [],
          revision: outcome.revision,
          request: outcome.request,
          decision: outcome.decision,
          explanation,
          why,
          platform_notes: outcome.platform_notes,
        },
        summary: `${explanation}\n  decided with ${where}` +
          (outcome.decision.matched?.line
            ? `, rule at line ${outcome.decision.matched.line}`
            : "") +
          (why === null ? "" : `\n  why: ${why}`) +
          outcome.platform_notes.map((note) => `\n  note (cloudsignal dev): ${note.message}`)
            .join(""),
      };
    });
  },
});

/** `acl_test`: a policy's own tests. */
export const testTool = defineTool({
  name: "acl_test",
  title: "Run a policy's tests",
  description: "Runs the tests written in a policy (its `tests` array: expected allow or deny " +
    "decisions) with the broker's evaluator, explains each failure, and lists the rules no " +
    "test exercised. Offline. Use it after editing a policy: acl_update_policy refuses a " +
    "policy whose tests fail.",
  input: z.strictObject({ ...policySource }),
  output: z.object({ ...checkedPolicy, ...testRun.shape }),
  annotations: LOCAL_READ,
  writes: false,
  async run({ context }, args) {
    const input = await policyInput(context, args);
    const [{ testPolicy }, { testResults }] = await Promise.all([
      import("../../policy/tests.ts"),
      import("../../policy/test_report.ts"),
    ]);
    const empty = { passed: 0, failed: 0, tests: [], unexercised: [] };
    return await orFindings("Not tested", empty, async () => {
      const { name, run } = await testPolicy({ policy: input });
      const failures = run.outcomes.filter((outcome) => !outcome.passed);
      return {
        structured: { policy_name: name, valid: true, findings: [], ...testResults(run) },
        summary: `${run.passed} passed, ${run.failed} failed` +
          failures.map((failure) =>
            `\n  FAIL ${failure.name}: expected ${failure.expect}; ${failure.explanation}`
          ).join("") +
          (run.unexercised.length
            ? `\n${run.unexercised.length} rules no test exercised: ` +
              run.unexercised.map((rule) => rule.path).join(", ")
            : ""),
      };
    });
  },
});

const diffOutput = z.object({
  ...checkedPolicy,
  against: z.object({ revision: z.number().int(), live: z.boolean(), organization })
    .nullable(),
  identical: z.boolean(),
  summary: z.string().nullable().describe("the changes, one per line"),
  diff: policyDiff.nullable(),
  test_changes: z.array(decisionChange).nullable().describe(
    "test decisions that differ; null when the other policy cannot be compiled here",
  ),
});

/** `acl_diff`: a candidate policy against the live one or a revision. */
export const diffTool = defineTool({
  name: "acl_diff",
  title: "Compare a policy with the live one",
  description:
    "Compares a policy (text or file) with the organization's live policy or a revision: " +
    "fields, rules and publishers added, removed and changed, tests added and removed, and " +
    "the test decisions that come out differently. Use it to review a change before " +
    "acl_update_policy, or to see what a rollback to a revision would do.",
  input: z.strictObject({
    ...policySource,
    revision: revisionNumber.optional().describe("compare with this revision, not the live one"),
  }),
  output: diffOutput,
  annotations: API_READ,
  writes: false,
  async run({ context }, args) {
    const input = await policyInput(context, args);
    const [{ comparePolicy }, { formatDiff }] = await Promise.all([
      import("../../policy/compare.ts"),
      import("../../policy/diff.ts"),
    ]);
    const empty = {
      against: null,
      identical: false,
      summary: null,
      diff: null,
      test_changes: null,
    };
    return await orFindings<z.infer<typeof diffOutput>>("Not compared", empty, async () => {
      const comparison = await comparePolicy(context, { policy: input, revision: args.revision });
      const summary = formatDiff(comparison.diff, comparison.testChanges, PLAIN);
      const against = `${comparison.against.live ? "the live policy" : "revision"} ` +
        `${
          comparison.against.live
            ? `(revision ${comparison.against.revision})`
            : comparison.against.revision
        }`;
      return {
        structured: {
          policy_name: comparison.name,
          valid: true,
          findings: comparison.warnings,
          against: comparison.against,
          identical: comparison.identical,
          summary,
          diff: comparison.diff as unknown as z.infer<typeof policyDiff>,
          test_changes: comparison.testChanges,
        },
        summary: comparison.identical
          ? `${comparison.name} is identical to ${against}.`
          : `${comparison.name} against ${against}:\n${summary}`,
      };
    });
  },
});

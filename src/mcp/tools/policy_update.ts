/**
 * `acl_update_policy`: replaces the organization's policy, never blindly. The policy must be
 * valid and pass its own tests; it is written only if the live revision is still the
 * `base_revision` the agent read; a client that can ask the person (elicitation) shows them
 * the changes first, and a decline writes nothing.
 */

import * as z from "../zod.ts";
import { OperationError } from "../../core/errors.ts";
import { PLAIN } from "../../core/text_style.ts";
import {
  checkedPolicy,
  decisionChange,
  organization,
  policyDiff,
  policySource,
  testRun,
} from "../schemas.ts";
import { invalidPolicy, policyInput } from "../policy_input.ts";
import { defineTool } from "../tool.ts";
import { revisionNumber } from "./policy_read.ts";

const updateOutput = z.object({
  updated: z.boolean().describe("true: the new revision is live"),
  outcome: z.enum([
    "updated",
    "unchanged",
    "declined",
    "cancelled",
    "policy_invalid",
    "tests_failed",
  ])
    .describe(
      "unchanged: the live policy already is this one; declined/cancelled: the person did " +
        "not confirm; policy_invalid / tests_failed: refused before anything was sent",
    ),
  ...checkedPolicy,
  organization: organization.nullable(),
  base_revision: z.number().int(),
  live_revision: z.number().int().nullable().describe("the live revision before the update"),
  revision: z.number().int().nullable().describe("the new revision, when updated"),
  summary: z.string().nullable().describe("the changes, one per line"),
  diff: policyDiff.nullable(),
  test_changes: z.array(decisionChange).nullable(),
  tests: testRun.nullable().describe("the policy's own tests"),
  file_revision: z.enum(["recorded", "file_changed", "write_failed"]).nullable().describe(
    "for a policy_path: whether the file's $revision now names the new revision (as " +
      "`cloudsignal acl update` does); file_changed: the file was edited meanwhile and left alone",
  ),
});

type UpdateOutput = z.infer<typeof updateOutput>;

/**
 * The tool error of a stale base: what changed since it and how to merge; a base that was
 * never a revision says so.
 */
export function staleBase(base: number | "*", live: number, since?: string | null): OperationError {
  if (typeof base === "number" && base > live) {
    return new OperationError(
      `base_revision ${base} is not a revision of this policy: the live one is ${live}. ` +
        "Nothing was written.",
      `Read the policy with acl_get_policy and pass its base_revision (${live}).`,
      "revision_conflict",
      { argument: "base_revision" },
    );
  }
  return new OperationError(
    `The live policy changed since base_revision ${base}: it is now revision ${live}. ` +
      "Nothing was written." + (since ? `\nWhat changed since ${base}:\n${since}` : ""),
    `Read it again with acl_get_policy, merge your changes into that document, and call ` +
      `acl_update_policy with base_revision ${live}.`,
    "revision_conflict",
  );
}

/** `acl_update_policy`: validated, tested, compared, confirmed, then written with If-Match. */
export const updatePolicyTool = defineTool({
  name: "acl_update_policy",
  title: "Update the ACL policy",
  description:
    "Replaces the organization's live ACL policy, which the MQTT broker enforces at once. " +
    "Give the complete new policy (text or file) and base_revision: the revision you read " +
    "with acl_get_policy and edited. The policy is validated and its tests are run first " +
    "(refused on errors or failures, nothing sent); if someone changed the policy since " +
    "base_revision, nothing is written and you must read it again and merge. When the " +
    "client supports it, the person is asked to confirm the changes. Returns the changes " +
    "and the new revision; earlier revisions stay available (acl_list_revisions).",
  input: z.strictObject({
    ...policySource,
    base_revision: revisionNumber.describe(
      "the live revision your policy is based on (from acl_get_policy)",
    ),
  }),
  output: updateOutput,
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    // The same call again finds the base revision gone and writes nothing.
    idempotentHint: true,
    openWorldHint: true,
  },
  writes: true,
  async run({ context, confirm }, args) {
    const input = await policyInput(context, args);
    const [
      update,
      { formatChanges, formatDiff },
      errors,
      { testResults },
      { recordRevisionInFile },
    ] = await Promise.all([
      import("../../policy/update.ts"),
      import("../../policy/diff.ts"),
      import("../../policy/errors.ts"),
      import("../../policy/test_report.ts"),
      import("../../policy/file_revision.ts"),
    ]);
    const empty: Omit<UpdateOutput, "outcome" | "policy_name" | "valid" | "findings"> = {
      updated: false,
      organization: null,
      base_revision: args.base_revision,
      live_revision: null,
      revision: null,
      summary: null,
      diff: null,
      test_changes: null,
      tests: null,
      file_revision: null,
    };
    let plan;
    try {
      plan = await update.planPolicyUpdate(context, {
        policy: input,
        baseRevision: args.base_revision,
      });
    } catch (error) {
      if (error instanceof errors.PolicyInvalidError) {
        const { fields, summary } = await invalidPolicy(error, "Not updated");
        return { structured: { ...empty, ...fields, outcome: "policy_invalid" as const }, summary };
      }
      if (error instanceof errors.TestsFailedError) {
        const tests = testResults(error.run);
        const failures = tests.tests.filter((test) => !test.passed);
        return {
          structured: {
            ...empty,
            outcome: "tests_failed" as const,
            policy_name: error.source,
            valid: true,
            findings: [],
            tests,
          },
          summary: `Not updated: ${error.message}\n` +
            failures.map((test) => `  FAIL ${test.name}: ${test.explanation}`).join("\n"),
        };
      }
      throw error;
    }
    if (plan.conflict) {
      const since = plan.sinceBase && !plan.sinceBase.identical
        ? formatChanges(plan.sinceBase, PLAIN).join("\n")
        : null;
      throw staleBase(args.base_revision, plan.live.revision, since);
    }
    const summary = formatDiff(plan.diff, plan.testChanges, PLAIN);
    const result = (outcome: UpdateOutput["outcome"]): UpdateOutput => ({
      ...empty,
      outcome,
      policy_name: plan.name,
      valid: true,
      findings: [...plan.warnings, ...plan.serverFindings],
      organization: plan.organization,
      live_revision: plan.live.revision,
      summary,
      diff: plan.diff as unknown as UpdateOutput["diff"],
      test_changes: plan.testChanges,
      tests: testResults(plan.tests),
    });
    const name = plan.organization.name;
    const { hasErrors } = await import("../../acl/findings.ts");
    if (hasErrors(plan.serverFindings)) {
      return {
        structured: { ...result("policy_invalid"), valid: false },
        summary: `Not updated: the server found errors in ${plan.name}:\n` +
          plan.serverFindings.filter((finding) => finding.severity === "error")
            .map((finding) => `  ${finding.path}: ${finding.message}`).join("\n"),
      };
    }
    if (plan.diff.identical) {
      return {
        structured: { ...result("unchanged"), revision: plan.live.revision },
        summary: `The live policy of ${name} (revision ${plan.live.revision}) already is ` +
          `${plan.name}; nothing to update.`,
      };
    }
    if (confirm) {
      let answer;
      try {
        answer = await confirm(
          `Update the ACL policy of ${name} (revision ${plan.live.revision}) with ${plan.name}? ` +
            `The broker enforces it at once.\n\n${summary}`,
        );
      } catch (error) {
        return {
          structured: result("cancelled"),
          summary: `Not updated: the confirmation could not be asked (${
            error instanceof Error ? error.message : String(error)
          }). Nothing was written.`,
        };
      }
      if (answer !== "accept") {
        return {
          structured: result(answer === "decline" ? "declined" : "cancelled"),
          summary: `Not updated: the person ${
            answer === "decline" ? "declined" : "dismissed"
          } the confirmation. Nothing was written.`,
        };
      }
    }
    let written;
    try {
      written = await update.applyPolicyUpdate(context, plan);
    } catch (error) {
      if (error instanceof errors.PolicyConflictError) {
        throw staleBase(error.base, error.current);
      }
      throw error;
    }
    return {
      structured: {
        ...result("updated"),
        updated: true,
        findings: [...plan.warnings, ...written.findings.filter((f) => f.stage === "server")],
        revision: written.revision,
        file_revision: plan.file
          ? await recordRevisionInFile(plan.file, plan.text, written.revision)
          : null,
      },
      summary: `Updated the policy of ${name}: revision ${written.revision} (was ` +
        `${written.previous_revision}).\n${summary}`,
    };
  },
});

/**
 * The CLI reports located findings for generated invalid policies, never "unexpected
 * failure": `acl validate` (text and --json), `acl simulate --policy`, `acl test` and
 * `acl update` (logged in to a real platform) on the mutations that crashed before (a null
 * rule, a publisher that is not an object, publisher topics missing or not a list) and on
 * randomly chosen ones.
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { validatePolicyText } from "../../src/acl/mod.ts";
import { runCli } from "../support/cli.ts";
import { exampleMutations, type PolicyMutation } from "../support/policy_mutations.ts";
import { assertLocatedFindings } from "../support/finding_checks.ts";
import { cliEnv, seedSession, startTestPlatform } from "../auth/support/login_flow.ts";

const MUTATIONS = await exampleMutations();
const INVALID = MUTATIONS.filter((mutation) =>
  !validatePolicyText(JSON.stringify(mutation.document)).valid
);

/** The first mutation of each shape that crashed the CLI before issue 14. */
const CRASHED: PolicyMutation[] = [
  ["null", /^\/global\/\d+$/],
  ["null", /^\/rules\/\d+$/],
  ["wrong_type", /^\/publishers\/\d+$/],
  ["missing_member", /^\/publishers\/\d+\/topics$/],
  ["wrong_type", /^\/publishers\/\d+\/topics$/],
].map(([kind, pointer]) =>
  INVALID.find((mutation) => mutation.kind === kind && (pointer as RegExp).test(mutation.pointer))!
);

const COMMANDS: [string, (file: string) => string[]][] = [
  ["validate", (file) => ["acl", "validate", file]],
  [
    "simulate",
    (
      file,
    ) => [
      "acl",
      "simulate",
      "--policy",
      file,
      "--topic",
      "a",
      "--action",
      "pub",
      "--username",
      "u",
    ],
  ],
  ["test", (file) => ["acl", "test", file]],
  ["update", (file) => ["acl", "update", file, "--yes"]],
];

Deno.test("the CLI gives located findings for generated invalid policies, never a crash", async () => {
  const t = await startTestPlatform();
  const home = await Deno.makeTempDir({ prefix: "cloudsignal-mutations-" });
  try {
    await seedSession(t.platform, home);
    const env = cliEnv(home, t.platform.apiUrl);
    const file = `${home}/policy.json`;
    const check = async (mutation: PolicyMutation) => {
      const text = JSON.stringify(mutation.document, null, 2);
      await Deno.writeTextFile(file, text);
      const local = validatePolicyText(text);
      const json = await runCli(["acl", "validate", "--local-only", "--json", file], { env });
      assert.equal(json.code, 1, `${mutation.label}: ${json.stderr}`);
      const reported = JSON.parse(json.stdout).findings;
      assertLocatedFindings(mutation.label, text, mutation.document, reported);
      for (const [name, args] of COMMANDS) {
        const result = await runCli(args(file), { env });
        const output = result.stdout + result.stderr;
        const label = `${mutation.label}: acl ${name}`;
        assert.equal(result.code, 1, `${label}:\n${output}`);
        assert.doesNotMatch(output, /unexpected failure|Cannot read properties/, label);
        for (const finding of local.findings.filter((f) => f.severity === "error")) {
          assert.ok(
            output.includes(`  error: ${finding.path} - ${finding.message}\n`) &&
              output.includes(`at ${file}:${finding.line}:${finding.column}\n`),
            `${label}: ${JSON.stringify(finding)} not reported:\n${output}`,
          );
        }
      }
    };
    for (const mutation of CRASHED) await check(mutation);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...INVALID), check),
      { numRuns: 3 },
    );
    const current = await fetch(`${t.platform.apiUrl}/v2/acl/policy`, {
      headers: { authorization: `Bearer ${(await seedSession(t.platform, home)).access_token}` },
    });
    assert.equal(current.headers.get("etag"), '"1"', "no invalid policy was stored");
    await current.body?.cancel();
  } finally {
    await t.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

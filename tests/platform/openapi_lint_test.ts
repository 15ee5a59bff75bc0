/**
 * schemas/openapi.json passes Redocly's linter (an OpenAPI 3.1 implementation we did not
 * write), with its strict recommended rules: no error, no warning. The one problem it ignores
 * is explained in schemas/.redocly.lint-ignore.yaml.
 */

import assert from "node:assert/strict";
import { runProcess } from "../support/process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Redocly CLI 2.x ships as one bundled package with no dependencies. */
const REDOCLY = "npm:@redocly/cli@2.77.0";

Deno.test("Redocly's linter finds nothing to report in schemas/openapi.json", async () => {
  const env: Record<string, string> = {
    REDOCLY_TELEMETRY: "off",
    REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
    NO_COLOR: "1",
  };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const result = await runProcess(Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    REDOCLY,
    "lint",
    "--config",
    "schemas/redocly.yaml",
    "--format",
    "json",
    "schemas/openapi.json",
  ], { cwd: ROOT, env, timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 1 });
});

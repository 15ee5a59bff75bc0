/**
 * .github/workflows/release.yml: valid YAML (parsed with the `yaml` package, a maintained
 * YAML 1.2 parser, used only here), the shape GitHub Actions needs, and command lines that
 * the scripts they run accept.
 */

import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { parseDocument } from "npm:yaml@2.9.1";
import { OPTIONS as BUNDLE_OPTIONS } from "../../scripts/build_bundle.ts";
import { OPTIONS as NPM_OPTIONS } from "../../scripts/build_npm.ts";
import { OPTIONS as COMPILE_OPTIONS } from "../../scripts/compile.ts";
import { OPTIONS as HOMEBREW_OPTIONS } from "../../scripts/homebrew.ts";
import { OPTIONS as STARTUP_OPTIONS } from "../../bench/startup.ts";

const ROOT = new URL("../../", import.meta.url);
const WORKFLOW = new URL(".github/workflows/release.yml", ROOT);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}

interface Job {
  "runs-on": string;
  needs?: string | string[];
  container?: string;
  steps: Step[];
  permissions?: Record<string, string>;
}

interface Workflow {
  name: string;
  on: { push: { tags: string[]; branches?: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

async function load(): Promise<Workflow> {
  const text = await Deno.readTextFile(WORKFLOW);
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  assert.deepEqual(document.errors.map(String), [], "YAML errors");
  assert.deepEqual(document.warnings.map(String), [], "YAML warnings");
  return document.toJS() as Workflow;
}

function runs(job: Job): string {
  return job.steps.map((step) => step.run ?? "").join("\n");
}

Deno.test("release workflow: valid YAML with jobs, steps and pinned actions", async () => {
  const workflow = await load();
  assert.equal(workflow.name, "release");
  assert.deepEqual(workflow.on, { push: { tags: ["v*"] } }, "runs on version tags only");
  assert.equal(workflow.permissions.contents, "read");
  const names = Object.keys(workflow.jobs);
  assert.deepEqual(names, ["test", "build", "publish"]);
  for (const [name, job] of Object.entries(workflow.jobs)) {
    assert.equal(typeof job["runs-on"], "string", `${name}: runs-on`);
    assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${name}: steps`);
    for (const need of [job.needs ?? []].flat()) {
      assert.ok(names.includes(need), `${name} needs unknown job ${need}`);
    }
    for (const step of job.steps) {
      assert.ok((step.uses === undefined) !== (step.run === undefined), `${name}: uses xor run`);
      if (step.uses) assert.match(step.uses, /^[\w-]+\/[\w-]+@v\d+$/, "actions pinned");
      for (const expression of JSON.stringify(step).matchAll(/\$\{\{\s*([^}]*?)\s*\}\}/g)) {
        assert.match(expression[1], /^(github|secrets|env|steps|needs|runner)\./, expression[1]);
      }
    }
  }
});

Deno.test("release workflow: tests first, then compile, start-up, formula and npm, then publish", async () => {
  const { jobs } = await load();
  assert.equal(jobs.test.container, "node:20-bookworm");
  assert.match(runs(jobs.test), /^bash \.ci\/run$/m);
  assert.deepEqual([jobs.build.needs].flat(), ["test"]);
  assert.deepEqual([jobs.publish.needs].flat(), ["build"]);
  const build = runs(jobs.build);
  const order = [
    "npm install -g deno@",
    'deno run -A scripts/compile.ts --tag "$GITHUB_REF_NAME"',
    "sha256sum --check --strict",
    "deno run -A bench/startup.ts --native build/smoke/cloudsignal",
    "deno run -A scripts/homebrew.ts",
    "deno run -A scripts/build_npm.ts --binaries build/release",
  ].map((needle) => {
    const at = build.indexOf(needle);
    assert.ok(at >= 0, `build job runs ${needle}`);
    return at;
  });
  assert.deepEqual(order, [...order].sort((a, b) => a - b), "build steps in order");
  const upload = jobs.build.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.match(String(upload?.with?.path), /dist\/\n\s*build\/npm\//);
  const publish = runs(jobs.publish);
  for (const asset of ["dist/*.tar.gz", "dist/*.zip", "dist/*.mjs", "dist/*-sha256sums.txt"]) {
    assert.ok(publish.includes(asset), `release uploads ${asset}`);
  }
  // The platform packages first: @cloudsignal/cli names them as optional dependencies.
  const platforms = publish.indexOf('npm publish "./$package" --access public');
  const main = publish.indexOf("npm publish ./build/npm/cli --access public");
  assert.ok(publish.includes("for package in build/npm/cli-*/; do"), publish);
  assert.ok(platforms >= 0 && main > platforms, "platform packages, then the main one");
  assert.equal(jobs.publish.permissions?.contents, "write");
});

Deno.test("release workflow: the Linux binary is run on lazily loaded commands", async () => {
  const { jobs } = await load();
  const smoke = jobs.build.steps.find((step) => step.run?.includes("build/smoke/cloudsignal"));
  assert.ok(smoke?.run, "a step runs the extracted binary");
  const lines = smoke.run.split("\n").filter((line) => line.startsWith("build/smoke/cloudsignal "));
  const commands = lines.map((line) => {
    const [command, filter] = line.split("|");
    return { args: shellWords(command).slice(1), grep: filter && shellWords(filter) };
  });
  assert.deepEqual(commands.map((c) => c.args), [
    ["--version"],
    ["acl", "validate", "--local-only", "examples/email-inbox.json"],
    ["completions", "bash"],
  ]);
  // The lazily loaded commands work from the source in the repository (where the step runs),
  // and print what the step looks for.
  const home = await Deno.makeTempDir({ prefix: "cloudsignal-workflow-" });
  try {
    for (const { args, grep } of commands.slice(1)) {
      const result = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("main.ts", ROOT).pathname, ...args],
        cwd: ROOT.pathname,
        env: { NO_COLOR: "1", CLOUDSIGNAL_HOME: home },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 0, `${args.join(" ")}: ${stderr}`);
      if (grep) {
        assert.deepEqual(grep.slice(0, 2), ["grep", "-F"]);
        assert.ok(new TextDecoder().decode(result.stdout).includes(grep[2]), grep[2]);
      }
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("release workflow: Deno is the version CI pins", async () => {
  const { jobs } = await load();
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const pinned = ci.match(/deno@(\d+\.\d+\.\d+)/)?.[1];
  assert.ok(pinned, ".ci/run pins a Deno version");
  assert.ok(runs(jobs.build).includes(`npm install -g deno@${pinned}`));
});

/** Splits a shell command line into words (quotes removed, variables kept as text). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

Deno.test("release workflow: every script it runs exists and accepts its options", async () => {
  const { jobs } = await load();
  const specs: Record<string, NonNullable<Parameters<typeof parseArgs>[0]>["options"]> = {
    "bench/startup.ts": STARTUP_OPTIONS,
    "scripts/compile.ts": COMPILE_OPTIONS,
    "scripts/homebrew.ts": HOMEBREW_OPTIONS,
    "scripts/build_npm.ts": NPM_OPTIONS,
    "scripts/build_bundle.ts": BUNDLE_OPTIONS,
  };
  let checked = 0;
  for (const job of Object.values(jobs)) {
    for (const line of runs(job).split("\n")) {
      const words = shellWords(line.trim());
      const at = words.findIndex((word) => /^(?:scripts|bench)\/\w+\.ts$/.test(word));
      if (at < 0) continue;
      const script = words[at];
      await Deno.stat(new URL(script, ROOT));
      assert.ok(specs[script], `${script} has an OPTIONS export this test knows`);
      const end = words.indexOf("|", at);
      const args = words.slice(at + 1, end < 0 ? undefined : end);
      parseArgs({ args, options: specs[script], strict: true });
      checked++;
    }
  }
  assert.equal(checked, 4);
});

/**
 * First runs fetch only what runs. In a fresh copy of the repository with an empty DENO_DIR,
 * the README's first command (an offline `acl simulate`) downloads no npm package at all, and
 * a command that needs one (`completions`, tab) downloads exactly its packages, none of the
 * local platform's (aedes) or the tests' (playwright-core, fast-check, mqtt, ajv, yaml). The
 * static import graph of main.ts, all that a start may load, reaches no npm package and no
 * module of the local platform. The URL channel is checked in distribution_url_test.ts.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import {
  ALLOWED_OUTPUT,
  copyRepository,
  npmPackagesIn,
  readmeFirstCommand,
  ROOT,
  run,
} from "./distribution_support.ts";

Deno.test("first run in a fresh copy: the README's command fetches nothing, completions only tab", async () => {
  const dir = await tempDir("cloudsignal-first-run-");
  try {
    const clone = `${dir.path}/clone`;
    await copyRepository(clone);
    const denoDir = `${dir.path}/deno-dir`;
    const env = { DENO_DIR: denoDir, CLOUDSIGNAL_HOME: `${dir.path}/home` };

    const first = await run(Deno.execPath(), await readmeFirstCommand(), { cwd: clone, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, ALLOWED_OUTPUT);
    assert.deepEqual(await npmPackagesIn(denoDir), [], "no npm package for an offline command");

    const completions = await run(
      Deno.execPath(),
      ["run", "-A", "main.ts", "completions", "bash"],
      {
        cwd: clone,
        env,
      },
    );
    assert.equal(completions.code, 0, completions.stderr);
    assert.match(completions.stdout, /bash completion for cloudsignal/);
    assert.deepEqual(await npmPackagesIn(denoDir), ["@bomb.sh/tab@0.0.22", "commander@15.1.0"]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("the static import graph of main.ts reaches no npm package and no platform module", async () => {
  const info = await run(Deno.execPath(), ["info", "--json", `${ROOT}main.ts`], { cwd: ROOT });
  assert.equal(info.code, 0, info.stderr);
  const graph = JSON.parse(info.stdout) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const start = new Set<string>();
  const pending = [...graph.roots];
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    const resolved = graph.redirects[specifier] ?? specifier;
    if (start.has(resolved)) continue;
    start.add(resolved);
    for (const dependency of modules.get(resolved)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) pending.push(dependency.code.specifier);
    }
  }
  const reached = [...start].map((s) => s.replace(`file://${ROOT}`, ""));
  assert.deepEqual(reached.filter((s) => /^(npm|jsr|https?):/.test(s)), [], reached.join("\n"));
  assert.deepEqual(reached.filter((s) => s.startsWith("src/platform/")), []);
  // The whole graph, lazy imports included, does reach them: they load when a command runs.
  const all = graph.modules.map((m) => m.specifier);
  assert.ok(all.includes(`file://${ROOT}src/platform/broker.ts`));
  assert.ok(all.some((s) => s.startsWith("npm:") && s.includes("aedes@1.2.0")), all.join("\n"));
});

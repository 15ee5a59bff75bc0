/**
 * The bundles of `scripts/build_bundle.ts`, each run alone in an empty folder with a fresh
 * DENO_DIR, no deno.json in reach and `--cached-only` (so nothing can be downloaded):
 * --version, acl validate, acl simulate, completions, and `dev` with its bundled MQTT broker
 * (aedes, CommonJS) answering a real MQTT client.
 *
 * - the single file (`cloudsignal-<version>.mjs`): one module, nothing else;
 * - the lazy bundle (`--lazy`, what npm and `deno run` from a release use): `cloudsignal.js`
 *   and chunks; what it imports at start is what the source imports at start (no `node:`
 *   module, no command's work), the rest loads when a command runs.
 */

import assert from "node:assert/strict";
import mqtt from "npm:mqtt@5.16.0";
import { externalImports, LAZY_ENTRY } from "../../scripts/build_bundle.ts";
import { VERSION } from "../../scripts/release_common.ts";
import { tempDir } from "../support/cli.ts";
import {
  AGENT_CARD,
  ALLOWED_OUTPUT,
  ALLOWED_REQUEST,
  assertNoConfigInReach,
  DENIED_REQUEST,
  listDir,
  run,
  runScript,
  startDev,
} from "./distribution_support.ts";

const COMMIT = "0ff1ce0ff1ce";

/** Runs the CLI commands every bundle must run, from `runDir`, with nothing to download. */
async function exercise(t: Deno.TestContext, dir: string, runDir: string, entry: string) {
  const dataDir = `${dir}/data`;
  const denoDir = `${dir}/deno-dir`;
  await Deno.mkdir(dataDir);
  await Deno.writeTextFile(`${dataDir}/agent-card.json`, AGENT_CARD);
  await assertNoConfigInReach(runDir);
  const denoArgs = ["run", "-A", "--no-config", "--cached-only", entry];
  const env = { DENO_DIR: denoDir, CLOUDSIGNAL_HOME: `${dir}/home` };
  const cli = (args: string[], stdin?: string) =>
    run(Deno.execPath(), [...denoArgs, ...args], { cwd: runDir, env, stdin });

  await t.step("--version names the version and the build's commit", async () => {
    const result = await cli(["--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `cloudsignal ${VERSION} (commit ${COMMIT}, deno ${Deno.version.deno})\n`,
    );
  });

  await t.step("acl validate reads a policy from stdin", async () => {
    const result = await cli(["acl", "validate", "-", "--local-only"], AGENT_CARD);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^✓ Policy is valid/);
  });

  await t.step("acl simulate allows, and denies with exit 3", async () => {
    const policy = ["acl", "simulate", "--policy", `${dataDir}/agent-card.json`];
    const allowed = await cli([...policy, ...ALLOWED_REQUEST]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, ALLOWED_OUTPUT);
    const denied = await cli([...policy, ...DENIED_REQUEST, "--exit-status"]);
    assert.equal(denied.code, 3, denied.stderr);
    assert.match(denied.stdout, /^Denied/);
  });

  await t.step("completions come from the bundled tab", async () => {
    const result = await cli(["complete", "--", "acl", "s"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^simulate\t/);
  });

  await t.step(
    "dev: the bundled broker accepts the seeded user and enforces the policy",
    async () => {
      const dev = await startDev(Deno.execPath(), denoArgs, env, { cwd: runDir });
      try {
        const username = `${dev.info.user.username}@${dev.info.organization.short_id}`;
        const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 10_000 };
        const client = await mqtt.connectAsync(dev.info.mqtt_url, {
          ...options,
          username,
          password: dev.info.user.password,
          clientId: "bundle-test",
        });
        try {
          // A new organization's policy denies everything: SUBACK 128.
          const granted = await client.subscribeAsync("sensors/#", { qos: 0 }).catch(
            (error: { packet?: { granted?: number[] } }) =>
              (error.packet?.granted ?? []).map((qos) => ({ qos })),
          );
          assert.deepEqual(granted.map((grant) => grant.qos), [128]);
        } finally {
          await client.endAsync();
        }
        await assert.rejects(
          mqtt.connectAsync(dev.info.mqtt_url, {
            ...options,
            username,
            password: "not-the-password",
            clientId: "bundle-test-2",
          }),
        );
      } finally {
        dev.child.kill("SIGTERM");
        await dev.child.status;
        await dev.stderr;
      }
    },
  );

  await t.step("nothing was written next to the bundle, and nothing downloaded", async () => {
    const npm = await listDir(`${denoDir}/npm`).catch(() => []);
    assert.deepEqual(npm, [], "no npm package was fetched");
  });
}

Deno.test("single file: the bundle runs alone in an empty folder with nothing to download", async (t) => {
  const dir = await tempDir("cloudsignal-bundle-");
  try {
    const buildDir = `${dir.path}/build`;
    await runScript("build_bundle.ts", [
      "--out",
      `${buildDir}/cloudsignal.mjs`,
      "--commit",
      COMMIT,
    ]);
    assert.deepEqual(await listDir(buildDir), ["cloudsignal.mjs"], "one file, no chunks");
    const code = await Deno.readTextFile(`${buildDir}/cloudsignal.mjs`);
    assert.deepEqual(externalImports(code), [], "only node: built-ins are imported");
    assert.doesNotMatch(code, /["']npm:|["']jsr:|["']https?:\/\/[^"']*\.(?:ts|js|mjs)["']/);

    const runDir = `${dir.path}/run`;
    await Deno.mkdir(runDir);
    await Deno.copyFile(`${buildDir}/cloudsignal.mjs`, `${runDir}/cloudsignal.mjs`);
    await exercise(t, dir.path, runDir, "cloudsignal.mjs");
    assert.deepEqual(await listDir(runDir), ["cloudsignal.mjs"]);
  } finally {
    await dir.cleanup();
  }
});

/** The modules `file` imports statically, with theirs (the files a start loads). */
async function staticClosure(dir: string, file: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending = [`./${file}`];
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    if (specifier.startsWith("node:")) continue;
    const code = await Deno.readTextFile(`${dir}/${specifier.slice(2)}`);
    for (const match of code.matchAll(/^(?:import|export)\b[^;(]*?["']([^"']+)["'];$/gms)) {
      pending.push(match[1]);
    }
  }
  return seen;
}

Deno.test("lazy bundle: an entry and chunks that load when a command needs them", async (t) => {
  const dir = await tempDir("cloudsignal-lazy-bundle-");
  try {
    const buildDir = `${dir.path}/build`;
    await runScript("build_bundle.ts", ["--lazy", "--out", buildDir, "--commit", COMMIT]);
    const files = await listDir(buildDir);
    assert.ok(files.includes(LAZY_ENTRY), files.join(" "));

    await t.step("only node: built-ins and files of the folder are imported", async () => {
      for (const file of files) {
        const code = await Deno.readTextFile(`${buildDir}/${file}`);
        for (const specifier of externalImports(code)) {
          assert.ok(files.includes(specifier.replace(/^\.\//, "")), `${file}: ${specifier}`);
        }
        assert.doesNotMatch(code, /["']npm:|["']jsr:|["']https?:\/\/[^"']*\.(?:ts|js|mjs)["']/);
      }
    });

    await t.step("a start loads no node: module and no command's work", async () => {
      const start = [...await staticClosure(buildDir, LAZY_ENTRY)];
      assert.deepEqual(start.filter((s) => s.startsWith("node:")), [], start.join(" "));
      const loaded = start.map((s) => s.replace(/^\.\//, ""));
      for (const lazy of ["start_platform-", "completion-", "simulate-", "login-"]) {
        assert.ok(!loaded.some((file) => file.startsWith(lazy)), `${lazy}… loads at start`);
        assert.ok(files.some((file) => file.startsWith(lazy)), `${lazy}… is a chunk`);
      }
    });

    const runDir = `${dir.path}/run`;
    await Deno.mkdir(runDir);
    await Deno.rename(buildDir, `${runDir}/cloudsignal`);
    await exercise(t, dir.path, runDir, `cloudsignal/${LAZY_ENTRY}`);
    assert.deepEqual(await listDir(runDir), ["cloudsignal"]);
    assert.deepEqual(await listDir(`${runDir}/cloudsignal`), files);
  } finally {
    await dir.cleanup();
  }
});

/**
 * The `deno run <URL>` channel: the repository served over HTTP on 127.0.0.1 the way
 * raw.githubusercontent.com serves it (every file as text/plain), run from its URL with the
 * flags README.md gives, a fresh DENO_DIR, no config and no import map, and installed with
 * `deno install -g`. Deno fetches only what a command runs: an offline command no npm package
 * and no module of the local platform, completions only tab.
 */

import assert from "node:assert/strict";
import { VERSION } from "../../scripts/release_common.ts";
import { tempDir } from "../support/cli.ts";
import {
  AGENT_CARD,
  ALLOWED_OUTPUT,
  ALLOWED_REQUEST,
  assertNoConfigInReach,
  listDir,
  npmPackagesIn,
  ROOT,
  run,
  serveRepository,
  URL_CHANNEL_FLAGS as FLAGS,
} from "./distribution_support.ts";

Deno.test("deno run from a URL: fresh DENO_DIR, no config, the served repository", async (t) => {
  const dir = await tempDir("cloudsignal-url-");
  const served = serveRepository();
  try {
    const runDir = `${dir.path}/run`;
    await Deno.mkdir(runDir);
    await Deno.writeTextFile(`${dir.path}/agent-card.json`, AGENT_CARD);
    await assertNoConfigInReach(runDir);
    const denoDir = `${dir.path}/deno-dir`;
    const env = { DENO_DIR: denoDir, CLOUDSIGNAL_HOME: `${dir.path}/home` };
    const main = `${served.url}/main.ts`;
    const cli = (args: string[]) =>
      run(Deno.execPath(), ["run", ...FLAGS, main, ...args], { cwd: runDir, env });

    await t.step("README.md gives these flags", async () => {
      const readme = await Deno.readTextFile(`${ROOT}README.md`);
      const url = "https://raw.githubusercontent.com/cloudsignal/cli/v";
      assert.ok(readme.includes(`deno run ${FLAGS.join(" ")} ${url}`), "deno run");
      assert.ok(readme.includes(`deno install -g ${FLAGS.join(" ")} -n cloudsignal`), "install");
    });

    await t.step("--version", async () => {
      const result = await cli(["--version"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `cloudsignal ${VERSION} (commit dev, deno ${Deno.version.deno})\n`,
      );
    });

    await t.step("acl validate and acl simulate", async () => {
      const policy = `${dir.path}/agent-card.json`;
      const valid = await cli(["acl", "validate", policy, "--local-only"]);
      assert.equal(valid.code, 0, valid.stderr);
      assert.match(valid.stdout, /^✓ Policy is valid/);
      const simulate = await cli(["acl", "simulate", "--policy", policy, ...ALLOWED_REQUEST]);
      assert.equal(simulate.code, 0, simulate.stderr);
      assert.match(simulate.stdout, ALLOWED_OUTPUT);
    });

    await t.step("offline commands fetched no npm package and no platform module", async () => {
      assert.deepEqual(await npmPackagesIn(denoDir), []);
      const platform = served.requests.filter((r) => r.path.startsWith("/src/platform/"));
      assert.deepEqual(platform, []);
    });

    await t.step("completions fetched tab, and nothing else", async () => {
      const completion = await cli(["complete", "--", "acl", "s"]);
      assert.equal(completion.code, 0, completion.stderr);
      assert.match(completion.stdout, /^simulate\t/);
      // Without a lock, tab's optional peer commander is left out (the CLI vendors its own).
      assert.deepEqual(await npmPackagesIn(denoDir), ["@bomb.sh/tab@0.0.22"]);
    });

    await t.step("deno install -g puts a `cloudsignal` command on PATH", async () => {
      const root = `${dir.path}/install`;
      const install = await run(Deno.execPath(), [
        "install",
        "--global",
        ...FLAGS,
        "--root",
        root,
        "--name",
        "cloudsignal",
        main,
      ], { cwd: runDir, env });
      assert.equal(install.code, 0, install.stderr);
      const version = await run(`${root}/bin/cloudsignal`, ["--version"], { cwd: runDir, env });
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, new RegExp(`^cloudsignal ${VERSION.replaceAll(".", "\\.")} `));
      const completion = await run(`${root}/bin/cloudsignal`, ["complete", "--", "acl", "s"], {
        cwd: runDir,
        env,
      });
      assert.equal(completion.code, 0, completion.stderr);
      assert.match(completion.stdout, /^simulate\t/);
      // Installing caches everything the CLI may load, so that installed commands, `dev`
      // included, work offline later.
      const cached = await npmPackagesIn(denoDir);
      assert.ok(cached.includes("aedes@1.2.0"), cached.join(" "));
    });

    await t.step("every module came from the server, and every request found its file", () => {
      const paths = new Set(served.requests.map((r) => r.path));
      for (const path of ["/main.ts", "/deno.json", "/src/cli/vendor/commander.js"]) {
        assert.ok(paths.has(path), `${path} was not requested`);
      }
      assert.deepEqual(served.requests.filter((r) => r.status !== 200), []);
    });

    assert.deepEqual(await listDir(runDir), [], "nothing written to the working folder");
  } finally {
    await served.server.shutdown();
    await dir.cleanup();
  }
});

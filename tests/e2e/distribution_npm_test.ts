/**
 * The npm channel: `scripts/build_npm.ts` builds @cloudsignal/cli in a folder of its own;
 * `npm pack` packs it, `npm install -g --prefix <tmp>` installs it with the `deno` package
 * from the npm registry, and the installed `cloudsignal` runs with a fresh DENO_DIR in an
 * empty folder: --version, simulate, exit codes passed through. Also installed with
 * `--ignore-scripts` (the `deno` package's postinstall not run), which the launcher handles.
 */

import assert from "node:assert/strict";
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
} from "./distribution_support.ts";

const COMMIT = "abcdef012345";

interface PackResult {
  filename: string;
  files: { path: string; mode: number }[];
}

Deno.test("npm: pack, install into a prefix, run `cloudsignal`", async (t) => {
  const dir = await tempDir("cloudsignal-npm-");
  try {
    const pkg = `${dir.path}/pkg`;
    await runScript("build_npm.ts", ["--out", pkg, "--commit", COMMIT]);
    const npmEnv = { npm_config_update_notifier: "false", npm_config_fund: "false" };

    let tarball = "";
    await t.step("npm pack: package.json, the launcher, the bundle and a README", async () => {
      const manifest = JSON.parse(await Deno.readTextFile(`${pkg}/package.json`));
      assert.equal(manifest.name, "@cloudsignal/cli");
      assert.equal(manifest.version, VERSION);
      assert.deepEqual(
        manifest.bin,
        { cloudsignal: "bin/cloudsignal.cjs" },
        "npx runs the only bin",
      );
      assert.deepEqual(manifest.dependencies, { deno: Deno.version.deno });
      const pack = await run("npm", ["pack", pkg, "--pack-destination", dir.path, "--json"], {
        cwd: dir.path,
        env: npmEnv,
      });
      assert.equal(pack.code, 0, pack.stderr);
      const [packed] = JSON.parse(pack.stdout) as PackResult[];
      assert.equal(packed.filename, `cloudsignal-cli-${VERSION}.tgz`);
      assert.deepEqual(packed.files.map((f) => `${f.path} ${f.mode.toString(8)}`).sort(), [
        "README.md 644",
        "bin/cloudsignal.cjs 755",
        "cloudsignal.mjs 644",
        "package.json 644",
      ]);
      tarball = `${dir.path}/${packed.filename}`;
    });

    const runDir = `${dir.path}/run`;
    await Deno.mkdir(runDir);
    await Deno.writeTextFile(`${dir.path}/agent-card.json`, AGENT_CARD);
    await assertNoConfigInReach(runDir);

    const install = async (prefix: string, extra: string[] = []) => {
      const result = await run("npm", [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--no-audit",
        "--no-fund",
        ...extra,
        tarball,
      ], { cwd: dir.path, env: npmEnv });
      assert.equal(result.code, 0, result.stderr);
      return `${prefix}/bin/cloudsignal`;
    };
    const cloudsignal = (bin: string, args: string[]) =>
      run(bin, args, {
        cwd: runDir,
        env: { DENO_DIR: `${dir.path}/deno-dir`, CLOUDSIGNAL_HOME: `${dir.path}/home` },
      });

    await t.step("npm install -g: --version, simulate, and exit codes", async () => {
      const bin = await install(`${dir.path}/prefix`);
      const version = await cloudsignal(bin, ["--version"]);
      assert.equal(version.code, 0, version.stderr);
      assert.equal(
        version.stdout,
        `cloudsignal ${VERSION} (commit ${COMMIT}, deno ${Deno.version.deno})\n`,
      );
      const policy = ["acl", "simulate", "--policy", `${dir.path}/agent-card.json`];
      const allowed = await cloudsignal(bin, [...policy, ...ALLOWED_REQUEST]);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, ALLOWED_OUTPUT);
      const denied = await cloudsignal(bin, [...policy, ...DENIED_REQUEST, "--exit-status"]);
      assert.equal(denied.code, 3, denied.stderr);
      const usage = await cloudsignal(bin, ["acl", "simulat"]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^Error: unknown command 'simulat'/);
    });

    await t.step("npm install -g --ignore-scripts: the launcher finds Deno anyway", async () => {
      const prefix = `${dir.path}/prefix-no-scripts`;
      const bin = await install(prefix, ["--ignore-scripts"]);
      const deno = `${prefix}/lib/node_modules/@cloudsignal/cli/node_modules/deno`;
      assert.ok(!(await listDir(deno)).includes("deno"), "postinstall did not run");
      const version = await cloudsignal(bin, ["--version"]);
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, new RegExp(`commit ${COMMIT}`));
    });

    assert.deepEqual(await listDir(runDir), [], "nothing written to the working folder");
  } finally {
    await dir.cleanup();
  }
});

Deno.test("npm: the package is never built in the repository root", async () => {
  const result = await run(Deno.execPath(), [
    "run",
    "-A",
    new URL("../../scripts/build_npm.ts", import.meta.url).pathname,
    "--out",
    new URL("../../", import.meta.url).pathname,
    "--commit",
    COMMIT,
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^Error: .*not (empty|the repository)/);
});

/**
 * The npm channel, as esbuild and Biome ship native tools: `scripts/build_npm.ts` builds
 * `@cloudsignal/cli` and one package per platform holding the native binary; `npm pack`
 * packs them, a local registry (distribution_registry.ts) serves them, and the real npm
 * client installs them (`npm install -g`, `npx`) into temporary folders. `deno compile`
 * cannot run here, so the native binary is a stand-in: a shell script that execs Deno on a
 * lazy bundle built with its own commit, so the output says which way the CLI started.
 *
 * Checked: the platform package npm picks, the install script replacing the launcher with
 * the binary (no Node.js in between: the process is Deno itself), the Node.js launcher when
 * install scripts do not run, the fallback to Deno and the lazy bundle where the package has
 * no binary for the platform (and its message without Deno), exit codes, SIGTERM, Ctrl-C,
 * and a child killed by a signal.
 */

import assert from "node:assert/strict";
import { npmPlatform, PACKAGE_NAME, platformPackageName } from "../../scripts/build_npm.ts";
import { targetOf } from "../../scripts/compile.ts";
import { VERSION } from "../../scripts/release_common.ts";
import { tempDir } from "../support/cli.ts";
import {
  AGENT_CARD,
  ALLOWED_OUTPUT,
  ALLOWED_REQUEST,
  DENIED_REQUEST,
  hostTarget,
  listDir,
  run,
  runScript,
  startDev,
} from "./distribution_support.ts";
import { type LocalPublication, publishLocally } from "./distribution_registry.ts";

/** The commit of the package's own lazy bundle (the Deno fallback). */
const PACKAGE_COMMIT = "abcdef012345";
/** The commit of the lazy bundle the stand-in binary runs. */
const NATIVE_COMMIT = "0a7170e0a717";
/** A platform the tests never run on: npm must leave its package out. */
const FOREIGN_TARGET = "aarch64-apple-darwin";
/** This machine as npm names it (`linux-x64`), and its platform package. */
const HOST = `${npmPlatform(targetOf(hostTarget())).os}-${npmPlatform(targetOf(hostTarget())).cpu}`;
const HOST_PACKAGE = platformPackageName(targetOf(hostTarget()));

/** The packages of one build, packed and served. */
async function channel(dir: string, name: string, binaries: string[]): Promise<LocalPublication> {
  const out = `${dir}/${name}`;
  await runScript("build_npm.ts", [
    "--out",
    `${out}/packages`,
    "--commit",
    PACKAGE_COMMIT,
    ...binaries.flatMap((binary) => ["--binary", binary]),
  ]);
  const folders = (await listDir(`${out}/packages`)).map((f) => `${out}/packages/${f}`);
  return await publishLocally(folders, out);
}

/** `npm install -g --prefix <prefix> @cloudsignal/cli`; returns the installed command. */
async function install(
  from: LocalPublication,
  prefix: string,
  extra: string[] = [],
): Promise<string> {
  const result = await from.npm(
    ["install", "--global", "--prefix", prefix, ...extra, PACKAGE_NAME],
    prefix.slice(0, prefix.lastIndexOf("/")),
  );
  assert.equal(result.code, 0, result.stderr);
  return `${prefix}/bin/cloudsignal`;
}

/** The folder npm installed `@cloudsignal/cli` to under `prefix`. */
function installed(prefix: string): string {
  return `${prefix}/lib/node_modules/${PACKAGE_NAME}`;
}

/** The executable of a running process (Linux). */
function executableOf(pid: number): string {
  return Deno.realPathSync(`/proc/${pid}/exe`);
}

const versionLine = (commit: string) =>
  `cloudsignal ${VERSION} (commit ${commit}, deno ${Deno.version.deno})\n`;

Deno.test({
  name: "npm: one package per platform with the native binary, chosen by npm, started directly",
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    const dir = await tempDir("cloudsignal-npm-");
    const channels: LocalPublication[] = [];
    try {
      // The stand-in binary and the lazy bundle it runs.
      const lazy = `${dir.path}/native-lazy`;
      await runScript("build_bundle.ts", ["--lazy", "--out", lazy, "--commit", NATIVE_COMMIT]);
      const standIn = `${dir.path}/stand-in`;
      await Deno.writeTextFile(
        standIn,
        "#!/bin/sh\n# Stands in for the deno compile'd binary: the same CLI, started by Deno.\n" +
          `exec '${Deno.execPath()}' run -A --no-config --no-lock '${lazy}/cloudsignal.js' "$@"\n`,
      );
      await Deno.chmod(standIn, 0o755);
      const native = await channel(dir.path, "native", [
        `${hostTarget()}=${standIn}`,
        `${FOREIGN_TARGET}=${standIn}`,
      ]);
      channels.push(native);
      const fallback = await channel(dir.path, "fallback", []);
      channels.push(fallback);

      const runDir = `${dir.path}/run`;
      await Deno.mkdir(runDir);
      await Deno.writeTextFile(`${dir.path}/agent-card.json`, AGENT_CARD);
      const cliEnv = { DENO_DIR: `${dir.path}/deno-dir`, CLOUDSIGNAL_HOME: `${dir.path}/home` };
      const cli = (bin: string, args: string[], env: Record<string, string> = {}) =>
        run(bin, args, { cwd: runDir, env: { ...cliEnv, ...env } });
      const policy = ["acl", "simulate", "--policy", `${dir.path}/agent-card.json`];

      /** Exit codes pass through: allowed 0, denied 3, usage 2. */
      const exitCodes = async (bin: string, commit: string) => {
        const version = await cli(bin, ["--version"]);
        assert.equal(version.code, 0, version.stderr);
        assert.equal(version.stdout, versionLine(commit));
        const allowed = await cli(bin, [...policy, ...ALLOWED_REQUEST]);
        assert.equal(allowed.code, 0, allowed.stderr);
        assert.match(allowed.stdout, ALLOWED_OUTPUT);
        const denied = await cli(bin, [...policy, ...DENIED_REQUEST, "--exit-status"]);
        assert.equal(denied.code, 3, denied.stderr);
        const usage = await cli(bin, ["acl", "simulat"]);
        assert.equal(usage.code, 2);
        assert.match(usage.stderr, /^Error: unknown command 'simulat'/);
      };

      /** `dev` started by `bin`: which executable runs, and SIGTERM stops it cleanly. */
      const devStopsOnSigterm = async (bin: string) => {
        const dev = await startDev(bin, [], { ...cliEnv, CLOUDSIGNAL_HOME: `${dir.path}/dev` });
        const executable = executableOf(dev.child.pid);
        dev.child.kill("SIGTERM");
        const status = await dev.child.status;
        assert.equal(status.code, 0, await dev.stderr);
        assert.match(await dev.stderr, /SIGTERM: stopping the platform/);
        return executable;
      };

      await t.step("the packages: names, platforms, files and modes", () => {
        const byName = new Map(native.packed.map((p) => [p.name, p]));
        const files = (name: string) =>
          byName.get(name)!.files.map((f) => `${f.path} ${f.mode.toString(8)}`)
            .filter((f) => !f.startsWith("lazy/")).sort();
        assert.deepEqual(
          [...byName.keys()].sort(),
          [
            PACKAGE_NAME,
            `${PACKAGE_NAME}-darwin-arm64`,
            HOST_PACKAGE,
          ].sort(),
        );
        assert.deepEqual(files(PACKAGE_NAME), [
          "README.md 644",
          "bin/cloudsignal 755",
          "install.cjs 644",
          "lib/platform.cjs 644",
          "package.json 644",
        ]);
        assert.ok(byName.get(PACKAGE_NAME)!.files.some((f) => f.path === "lazy/cloudsignal.js"));
        assert.deepEqual(files(HOST_PACKAGE), [
          "README.md 644",
          "cloudsignal 755",
          "package.json 644",
        ]);
      });

      await t.step("npm install -g: npm picks this platform's package", async () => {
        const prefix = `${dir.path}/prefix`;
        await install(native, prefix);
        const modules = `${installed(prefix)}/node_modules/@cloudsignal`;
        assert.deepEqual(await listDir(modules), [`cli-${HOST}`], "the foreign one left out");
        const manifest = JSON.parse(await Deno.readTextFile(`${installed(prefix)}/package.json`));
        assert.deepEqual(
          Object.keys(manifest.optionalDependencies).sort(),
          [
            `${PACKAGE_NAME}-darwin-arm64`,
            HOST_PACKAGE,
          ].sort(),
        );
      });

      await t.step("the install script made `cloudsignal` the native binary itself", async () => {
        const prefix = `${dir.path}/prefix`;
        const command = await Deno.stat(Deno.realPathSync(`${prefix}/bin/cloudsignal`));
        const binary = await Deno.stat(
          `${installed(prefix)}/node_modules/${HOST_PACKAGE}/cloudsignal`,
        );
        assert.equal(command.ino, binary.ino, "a hard link to the platform package's binary");
        await exitCodes(`${prefix}/bin/cloudsignal`, NATIVE_COMMIT);
        const executable = await devStopsOnSigterm(`${prefix}/bin/cloudsignal`);
        assert.equal(executable, Deno.realPathSync(Deno.execPath()), "no Node.js in between");
      });

      await t.step("npx @cloudsignal/cli runs the native binary", async () => {
        const npx = await native.npm(["exec", "--yes", "--", PACKAGE_NAME, "--version"], runDir);
        assert.equal(npx.code, 0, npx.stderr);
        assert.equal(npx.stdout, versionLine(NATIVE_COMMIT));
      });

      await t.step("--ignore-scripts: the Node.js launcher starts the native binary", async () => {
        const prefix = `${dir.path}/prefix-no-scripts`;
        const bin = await install(native, prefix, ["--ignore-scripts"]);
        assert.match(await Deno.readTextFile(bin), /^#!\/usr\/bin\/env node\n/);
        await exitCodes(bin, NATIVE_COMMIT);

        // SIGTERM to the launcher reaches the CLI, whose exit code comes back.
        const executable = await devStopsOnSigterm(bin);
        assert.match(executable, /\/node[^/]*$/, "Node.js runs the launcher");

        // Ctrl-C reaches the whole process group: the CLI stops once, the launcher waits.
        const group = await startDev(bin, [], {
          ...cliEnv,
          CLOUDSIGNAL_HOME: `${dir.path}/dev`,
        }, { detached: true });
        Deno.kill(-group.child.pid, "SIGINT");
        const interrupted = await group.child.status;
        const stderr = await group.stderr;
        assert.equal(interrupted.code, 0, stderr);
        assert.equal(stderr.match(/SIGINT: stopping the platform/g)?.length, 1, stderr);
        assert.doesNotMatch(stderr, /again/);

        // A CLI killed by a signal: the launcher ends by the same signal.
        const killed = await startDev(bin, [], {
          ...cliEnv,
          CLOUDSIGNAL_HOME: `${dir.path}/dev`,
        });
        Deno.kill(childOf(killed.child.pid), "SIGKILL");
        const status = await killed.child.status;
        await killed.stderr;
        assert.equal(status.signal, "SIGKILL");
      });

      await t.step(
        "no binary for the platform: a shell script runs Deno on the lazy bundle",
        async () => {
          const prefix = `${dir.path}/prefix-fallback`;
          const bin = await install(fallback, prefix);
          assert.deepEqual(await listDir(installed(prefix)), [
            "README.md",
            "bin",
            "install.cjs",
            "lazy",
            "lib",
            "package.json",
          ], "no platform package");
          const script = await Deno.readTextFile(bin);
          assert.match(script, /^#!\/bin\/sh\n/);
          assert.ok(script.includes(`has no binary for ${HOST} (this build has none)`), script);
          await exitCodes(bin, PACKAGE_COMMIT);
          const executable = await devStopsOnSigterm(bin);
          assert.equal(executable, Deno.realPathSync(Deno.execPath()), "no Node.js in between");

          const noDeno = await cli(bin, ["--version"], { PATH: `${dir.path}/run` });
          assert.equal(noDeno.code, 1);
          assert.equal(noDeno.stdout, "");
          assert.equal(
            noDeno.stderr,
            `Error: cannot start cloudsignal: ${PACKAGE_NAME} ${VERSION} has no binary for ${HOST} ` +
              "(this build has none); and there is no Deno on PATH to run it without a binary.\n" +
              "Install Deno 2.9 or later: https://docs.deno.com/runtime/getting_started/installation/\n",
          );
        },
      );

      await t.step("no binary and no install script: the Node.js launcher runs Deno", async () => {
        const prefix = `${dir.path}/prefix-fallback-no-scripts`;
        const bin = await install(fallback, prefix, ["--ignore-scripts"]);
        await exitCodes(bin, PACKAGE_COMMIT);
        const node = (await run("sh", ["-c", "command -v node"])).stdout.trim();
        const noDeno = await cli(node, [bin, "--version"], { PATH: `${dir.path}/run` });
        assert.equal(noDeno.code, 1);
        assert.match(noDeno.stderr, /^Error: cannot start cloudsignal: .* no Deno on PATH/);
      });

      await t.step("the platform package missing: both launchers say so", async () => {
        // As after an install on another platform's lockfile: npm left the package out.
        const prefix = `${dir.path}/prefix-missing`;
        const bin = await install(native, prefix, ["--ignore-scripts"]);
        await Deno.remove(`${installed(prefix)}/node_modules/${HOST_PACKAGE}`, {
          recursive: true,
        });
        const reason = `${HOST_PACKAGE}, which holds the binary, is not installed; reinstall ` +
          `${PACKAGE_NAME} with optional dependencies (without --omit=optional or --no-optional)`;
        const node = (await run("sh", ["-c", "command -v node"])).stdout.trim();
        const launcher = await cli(node, [bin, "--version"], { PATH: `${dir.path}/run` });
        assert.equal(launcher.code, 1);
        assert.ok(launcher.stderr.includes(reason), launcher.stderr);

        const rebuild = await native.npm(
          ["rebuild", "--global", "--prefix", prefix, PACKAGE_NAME],
          dir.path,
        );
        assert.equal(rebuild.code, 0, rebuild.stderr);
        assert.match(await Deno.readTextFile(bin), /^#!\/bin\/sh\n# Written by the install script/);
        const script = await cli(bin, ["--version"], { PATH: `${dir.path}/run` });
        assert.equal(script.code, 1);
        assert.ok(script.stderr.includes(reason), script.stderr);
        const withDeno = await cli(bin, ["--version"]);
        assert.equal(withDeno.stdout, versionLine(PACKAGE_COMMIT));
      });

      assert.deepEqual(await listDir(runDir), [], "nothing written to the working folder");
    } finally {
      for (const served of channels) await served.registry.close();
      await dir.cleanup();
    }
  },
});

/** The pid of the one child of `pid` (Linux). */
function childOf(pid: number): number {
  const children = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/);
  assert.equal(children.length, 1, `children of ${pid}: ${children}`);
  return Number(children[0]);
}

Deno.test("npm: the packages are never built in the repository root", async () => {
  const result = await run(Deno.execPath(), [
    "run",
    "-A",
    new URL("../../scripts/build_npm.ts", import.meta.url).pathname,
    "--out",
    new URL("../../", import.meta.url).pathname,
    "--commit",
    PACKAGE_COMMIT,
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^Error: .*not (empty|the repository)/);
});

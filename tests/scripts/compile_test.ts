/**
 * scripts/compile.ts up to the runtime base of `deno compile` (which cannot be downloaded
 * here): targets and arguments (each one a flag `deno compile --help` lists), archives and
 * checksums of fake binaries read back with tar, Python's zipfile and sha256sum, the release
 * flow with a stand-in compiler that is handed the source entry (not the bundle), the real
 * `deno compile` run up to writing the binary (a DENORT_BIN that is no runtime), and the
 * clear stop when the runtime base is unreachable.
 */

import assert from "node:assert/strict";
import {
  archiveName,
  binaryName,
  bundleAssetName,
  checksumsName,
  compileArgs,
  type Compiler,
  type CompileSource,
  denortUrl,
  packageRelease,
  release,
  targetOf,
  TARGETS,
  withReleaseSource,
} from "../../scripts/compile.ts";
import { repoPath, VERSION } from "../../scripts/release_common.ts";
import { tempDir } from "../support/cli.ts";

const SCRIPT = repoPath("scripts/compile.ts");
const MAIN_URL = new URL("../../main.ts", import.meta.url).href;
const decoder = new TextDecoder();

async function run(command: string, args: string[], options: Deno.CommandOptions = {}) {
  const output = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A stand-in binary: a shell script that names its target. */
function fakeBinary(triple: string): string {
  return `#!/bin/sh\necho "fake cloudsignal for ${triple}"\n`;
}

Deno.test("compile: five targets, their archive names, binary names and arguments", async () => {
  assert.deepEqual(TARGETS.map((t) => `${t.triple}.${t.archive}`), [
    "x86_64-unknown-linux-gnu.tar.gz",
    "aarch64-unknown-linux-gnu.tar.gz",
    "x86_64-apple-darwin.tar.gz",
    "aarch64-apple-darwin.tar.gz",
    "x86_64-pc-windows-msvc.zip",
  ]);
  const windows = targetOf("x86_64-pc-windows-msvc");
  const mac = targetOf("aarch64-apple-darwin");
  assert.equal(archiveName("1.2.3", windows), "cloudsignal-1.2.3-x86_64-pc-windows-msvc.zip");
  assert.equal(archiveName("1.2.3", mac), "cloudsignal-1.2.3-aarch64-apple-darwin.tar.gz");
  assert.equal(binaryName(windows), "cloudsignal.exe");
  assert.equal(binaryName(mac), "cloudsignal");
  assert.equal(checksumsName("1.2.3"), "cloudsignal-1.2.3-sha256sums.txt");
  assert.equal(bundleAssetName("1.2.3"), "cloudsignal-1.2.3.mjs");
  assert.equal(
    denortUrl(mac, "2.9.6"),
    "https://dl.deno.land/release/v2.9.6/denort-aarch64-apple-darwin.zip",
  );
  const source: CompileSource = {
    entry: "/e/entry.ts",
    config: "/r/deno.json",
    lock: "/r/deno.lock",
  };
  const help = await run(Deno.execPath(), ["compile", "--help"], { env: { NO_COLOR: "1" } });
  assert.equal(help.code, 0, help.stderr);
  for (const target of TARGETS) {
    const args = compileArgs(target, source, `/o/${binaryName(target)}`);
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(args[0], "compile");
    assert.equal(value("--target"), target.triple);
    assert.equal(value("--output"), `/o/${binaryName(target)}`);
    assert.equal(value("--config"), "/r/deno.json", "the repository's config");
    assert.equal(value("--lock"), "/r/deno.lock", "the repository's lock");
    assert.equal(args.at(-1), "/e/entry.ts", "the source entry is compiled");
    for (const flag of ["--allow-all", "--frozen-lockfile", "--exclude-unused-npm"]) {
      assert.ok(args.includes(flag), flag);
    }
    for (const flag of ["--no-config", "--no-lock", "--bundle"]) {
      assert.ok(!args.includes(flag), flag);
    }
    assert.ok(!args.some((arg) => arg.startsWith("--include")), "nothing is read at run time");
    // Every flag is one this Deno's `deno compile` has.
    for (const flag of args.filter((arg) => arg.startsWith("--"))) {
      assert.match(help.stdout, new RegExp(`(?:^|[ ,])${flag}(?=[ =\\[]|$)`, "m"), flag);
    }
  }
  assert.throws(() => targetOf("riscv64-unknown-linux-gnu"), /unknown target riscv64/);
});

Deno.test("compile: archives and checksums read back with tar, zipfile and sha256sum", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    const binaries = [];
    for (const target of TARGETS) {
      const path = `${dir.path}/bin-${target.triple}`;
      await Deno.writeTextFile(path, fakeBinary(target.triple));
      binaries.push({ target, path });
    }
    const bundle = `${dir.path}/bundle.mjs`;
    await Deno.writeTextFile(bundle, 'console.log("bundle");\n');
    const lazyBundle = `${dir.path}/lazy`;
    await Deno.mkdir(lazyBundle);
    await Deno.writeTextFile(`${lazyBundle}/cloudsignal.js`, 'await import("./chunk-A.js");\n');
    await Deno.writeTextFile(`${lazyBundle}/chunk-A.js`, 'console.log("chunk");\n');
    const outDir = `${dir.path}/dist`;
    const mtime = 1_700_000_000;
    const assets = await packageRelease({
      version: "9.8.7",
      binaries,
      bundle,
      lazyBundle,
      outDir,
      mtime,
    });

    const names = (await Array.fromAsync(Deno.readDir(outDir))).map((e) => e.name).sort();
    assert.deepEqual(names, [
      "cloudsignal-9.8.7-aarch64-apple-darwin.tar.gz",
      "cloudsignal-9.8.7-aarch64-unknown-linux-gnu.tar.gz",
      "cloudsignal-9.8.7-deno.tar.gz",
      "cloudsignal-9.8.7-sha256sums.txt",
      "cloudsignal-9.8.7-x86_64-apple-darwin.tar.gz",
      "cloudsignal-9.8.7-x86_64-pc-windows-msvc.zip",
      "cloudsignal-9.8.7-x86_64-unknown-linux-gnu.tar.gz",
      "cloudsignal-9.8.7.mjs",
    ]);
    assert.equal(assets.length, 7);

    const check = await run("sha256sum", [
      "--check",
      "--strict",
      "cloudsignal-9.8.7-sha256sums.txt",
    ], {
      cwd: outDir,
    });
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout.match(/: OK$/gm)?.length, 7, check.stdout);
    const sums = await Deno.readTextFile(`${outDir}/cloudsignal-9.8.7-sha256sums.txt`);
    assert.match(sums, /^([0-9a-f]{64} {2}cloudsignal-9\.8\.7\S+\n){7}$/);
    const lazyListing = await run("tar", [
      "--list",
      "--verbose",
      "--numeric-owner",
      "-zf",
      `${outDir}/cloudsignal-9.8.7-deno.tar.gz`,
    ]);
    assert.match(
      lazyListing.stdout,
      /^-rw-r--r-- 0\/0 +\d+ [\d-]+ [\d:]+ cloudsignal-9\.8\.7\/chunk-A\.js\n-rw-r--r-- 0\/0 +\d+ [\d-]+ [\d:]+ cloudsignal-9\.8\.7\/cloudsignal\.js\n$/,
    );

    for (const target of TARGETS.filter((t) => t.archive === "tar.gz")) {
      const archive = `${outDir}/${archiveName("9.8.7", target)}`;
      const listing = await run("tar", ["--list", "--verbose", "--numeric-owner", "-zf", archive]);
      assert.equal(listing.code, 0, listing.stderr);
      assert.match(listing.stdout, /^-rwxr-xr-x 0\/0 +\d+ 2023-11-1\d \d\d:\d\d cloudsignal\n$/);
      const extracted = await run("tar", ["-xzOf", archive, "cloudsignal"]);
      assert.equal(extracted.stdout, fakeBinary(target.triple));
    }

    const zipPath = `${outDir}/${archiveName("9.8.7", targetOf("x86_64-pc-windows-msvc"))}`;
    const python = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None, "CRC mismatch"
    infos = z.infolist()
    print(" ".join(i.filename for i in infos))
    print(oct(infos[0].external_attr >> 16))
    print(infos[0].date_time)
    sys.stdout.write(z.read("cloudsignal.exe").decode())
`;
    const unzip = await run("python3", ["-c", python, zipPath]);
    assert.equal(unzip.code, 0, unzip.stderr);
    assert.equal(
      unzip.stdout,
      `cloudsignal.exe\n0o100755\n(2023, 11, 14, 22, 13, 20)\n${
        fakeBinary("x86_64-pc-windows-msvc")
      }`,
    );

    // The same inputs give the same bytes.
    const again = await packageRelease({
      version: "9.8.7",
      binaries,
      bundle,
      lazyBundle,
      outDir: `${dir.path}/again`,
      mtime,
    });
    assert.deepEqual(again.map((a) => a.sha256), assets.map((a) => a.sha256));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("compile: release() compiles the source entry with the commit, then bundles", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    const log: string[] = [];
    const sources: CompileSource[] = [];
    const compiler: Compiler = async (target, source, output) => {
      log.push(`compiler ${target.triple}`);
      sources.push(source);
      assert.equal(source.lock, repoPath("deno.lock"), "the repository's deno.lock");
      assert.ok(source.entry.startsWith(repoPath("build/.release-entry-")), source.entry);
      assert.equal(source.config, source.entry.replace(/entry\.ts$/, "deno.json"));
      await assertBuildConfig(source.config);
      // The entry imports the build info first, then the repository's main.ts: the source.
      const entry = await Deno.readTextFile(source.entry);
      const imports = [...entry.matchAll(/^import "([^"]+)";$/gm)].map((m) => m[1]);
      assert.equal(imports.length, 2, entry);
      assert.equal(imports[0], "./build_info.ts");
      assert.match(imports[1], /^\.\.\/.*main\.ts$/, "relative: no builder's path embedded");
      assert.equal(new URL(imports[1], `file://${source.entry}`).href, MAIN_URL);
      const info = await Deno.readTextFile(source.entry.replace(/entry\.ts$/, "build_info.ts"));
      assert.match(info, /__CLOUDSIGNAL_BUILD__ = \{"commit":"5eed5eed5eed"\};/);
      if (sources.length === 1) {
        // What deno compile gets runs, with that config and lock, and knows its commit.
        const version = await run(Deno.execPath(), [
          "run",
          "-A",
          "--config",
          source.config,
          "--lock",
          source.lock,
          "--frozen-lockfile",
          source.entry,
          "--version",
        ], { env: { NO_COLOR: "1" } });
        assert.equal(version.code, 0, version.stderr);
        assert.equal(
          version.stdout,
          `cloudsignal ${VERSION} (commit 5eed5eed5eed, deno ${Deno.version.deno})\n`,
        );
      }
      await Deno.writeTextFile(output, fakeBinary(target.triple));
    };
    const targets = [targetOf("x86_64-unknown-linux-gnu"), targetOf("x86_64-pc-windows-msvc")];
    const assets = await release(
      {
        targets,
        outDir: `${dir.path}/dist`,
        workDir: `${dir.path}/work`,
        commit: "5eed5eed5eed",
        version: VERSION,
        mtime: 1_700_000_000,
      },
      compiler,
      (line) => log.push(line),
    );
    assert.deepEqual(log, [
      "compiling x86_64-unknown-linux-gnu…",
      "compiler x86_64-unknown-linux-gnu",
      "compiling x86_64-pc-windows-msvc…",
      "compiler x86_64-pc-windows-msvc",
      "bundling…",
    ]);
    assert.equal(sources[0], sources[1], "one entry for every target");
    await assert.rejects(Deno.stat(sources[0].entry), Deno.errors.NotFound, "entry removed");
    assert.deepEqual(assets.map((a) => a.name), [
      `cloudsignal-${VERSION}-x86_64-unknown-linux-gnu.tar.gz`,
      `cloudsignal-${VERSION}-x86_64-pc-windows-msvc.zip`,
      `cloudsignal-${VERSION}.mjs`,
      `cloudsignal-${VERSION}-deno.tar.gz`,
    ]);
    const listing = await run("tar", ["-xzOf", assets[0].path, "cloudsignal"]);
    assert.equal(listing.stdout, fakeBinary("x86_64-unknown-linux-gnu"));
    // The bundle asset is the CLI with the commit embedded.
    const version = await run(Deno.execPath(), [
      "run",
      "-A",
      "--no-config",
      `${dir.path}/dist/cloudsignal-${VERSION}.mjs`,
      "--version",
    ], { cwd: dir.path });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(
      version.stdout,
      `cloudsignal ${VERSION} (commit 5eed5eed5eed, deno ${Deno.version.deno})\n`,
    );
    // So is the lazy bundle, run from its unpacked archive.
    const unpacked = `${dir.path}/unpacked`;
    await Deno.mkdir(unpacked);
    const untar = await run("tar", ["-xzf", assets[3].path, "-C", unpacked]);
    assert.equal(untar.code, 0, untar.stderr);
    const lazyVersion = await run(Deno.execPath(), [
      "run",
      "-A",
      "--no-config",
      `${unpacked}/cloudsignal-${VERSION}/cloudsignal.js`,
      "--version",
    ], { cwd: dir.path });
    assert.equal(lazyVersion.code, 0, lazyVersion.stderr);
    assert.equal(lazyVersion.stdout, version.stdout);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("compile: a target that fails to compile stops the release before any output", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    let entry = "";
    const compiler: Compiler = async (target, source, output) => {
      entry = source.entry;
      if (target.triple === "aarch64-unknown-linux-gnu") throw new Error("no base for arm");
      await Deno.writeTextFile(output, "binary");
    };
    await assert.rejects(
      release(
        {
          targets: [...TARGETS],
          outDir: `${dir.path}/dist`,
          workDir: `${dir.path}/work`,
          commit: "0123456789ab",
          version: "1.0.0",
          mtime: 0,
        },
        compiler,
        () => {},
      ),
      /no base for arm/,
    );
    await assert.rejects(Deno.stat(`${dir.path}/dist`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${dir.path}/work/cloudsignal.mjs`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${dir.path}/work/lazy`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(entry), Deno.errors.NotFound, "entry removed");
  } finally {
    await dir.cleanup();
  }
});

/**
 * Fails unless `path` is the repository's deno.json for builds: the same compiler options and
 * npm setting, and its unstable features less `lazy-dynamic-imports`.
 */
async function assertBuildConfig(path: string): Promise<void> {
  const repo = JSON.parse(await Deno.readTextFile(repoPath("deno.json")));
  const build = JSON.parse(await Deno.readTextFile(path));
  assert.ok(repo.unstable.includes("lazy-dynamic-imports"), "deno run loads imports lazily");
  assert.deepEqual(
    build.unstable ?? [],
    repo.unstable.filter((feature: string) => feature !== "lazy-dynamic-imports"),
  );
  assert.deepEqual(build.compilerOptions, repo.compilerOptions);
  assert.equal(build.nodeModulesDir, repo.nodeModulesDir);
  assert.equal(build.tasks, undefined);
}

/** A file that is not a Deno runtime base. */
async function notARuntime(dir: string): Promise<string> {
  const path = `${dir}/denort`;
  await Deno.writeTextFile(path, "not a runtime\n");
  return path;
}

Deno.test("compile: deno compile takes the arguments and embeds the source, lazy modules included", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    // With DENORT_BIN naming a file that is not a runtime, deno compile parses the
    // arguments, builds and type-checks the graph, lists what it embeds and only then fails,
    // on writing the binary.
    const stderr = await withReleaseSource("0123456789ab", async (source) => {
      const result = await run(
        Deno.execPath(),
        compileArgs(
          targetOf("x86_64-unknown-linux-gnu"),
          source,
          `${dir.path}/cloudsignal`,
        ),
        { env: { NO_COLOR: "1", DENORT_BIN: await notARuntime(dir.path) } },
      );
      assert.equal(result.code, 1, result.stderr);
      return result.stderr;
    });
    assert.doesNotMatch(stderr, /unexpected argument|error: (?:invalid|unrecognized)/i);
    assert.match(stderr, /^Check .*build\/\.release-entry-[^/]+\/entry\.ts$/m, "type-checked");
    assert.match(stderr, /\nEmbedded Files\n/);
    assert.match(stderr, /[├└]── main\.ts /, "main.ts at the root: the repository");
    assert.match(stderr, /[├└]── deno\.json /, "deno.json (imported by src/version.ts)");
    assert.match(stderr, /[├└]── completion\.ts /, "a lazily imported module");
    for (const used of ["aedes/1.2.0/", "@bomb.sh/tab/", "commander/15.1.0/"]) {
      assert.ok(stderr.includes(used), `embeds ${used}`);
    }
    for (const unused of ["playwright-core", "fast-check", "mqtt/5.16.0", "yaml/2.9.1", "ajv/"]) {
      assert.ok(!stderr.includes(unused), `leaves out ${unused}`);
    }
    assert.match(stderr, /Writing binary bytes\n\s+1: Invalid object: Not an ELF file/);

    // With the repository's own deno.json (lazy-dynamic-imports, for `deno run`), deno compile
    // would leave out every lazily imported module: why builds get a config of their own.
    const withRunConfig = await withReleaseSource("0123456789ab", async (source) => {
      const args = compileArgs(targetOf("x86_64-unknown-linux-gnu"), {
        ...source,
        config: repoPath("deno.json"),
      }, `${dir.path}/cloudsignal`);
      const result = await run(Deno.execPath(), args, {
        env: { NO_COLOR: "1", DENORT_BIN: await notARuntime(dir.path) },
      });
      return result.stderr;
    });
    assert.match(withRunConfig, /\nEmbedded Files\n/);
    assert.doesNotMatch(withRunConfig, /completion\.ts|aedes/);

    // The script reports that failure as a compile failure, without the listing.
    const result = await run(Deno.execPath(), [
      "run",
      "-A",
      SCRIPT,
      "--target",
      "x86_64-unknown-linux-gnu",
      "--commit",
      "0123456789ab",
      "--out",
      `${dir.path}/dist`,
      "--work-dir",
      `${dir.path}/work`,
    ], { env: { NO_COLOR: "1", DENORT_BIN: await notARuntime(dir.path) } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^compiling x86_64-unknown-linux-gnu…\nError: deno compile failed for x86_64-unknown-linux-gnu:\n/,
    );
    assert.match(result.stderr, /Not an ELF file\n$/);
    assert.doesNotMatch(result.stderr, /Embedded Files|Stack backtrace|denort/);
    await assert.rejects(Deno.stat(`${dir.path}/dist`), Deno.errors.NotFound);
  } finally {
    await dir.cleanup();
  }
});

/** A local port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The npm cache of this Deno, with the packages of main.ts in it (from the npm registry). */
async function npmCache(): Promise<string> {
  const cache = await run(Deno.execPath(), [
    "cache",
    "--config",
    repoPath("deno.json"),
    "--lock",
    repoPath("deno.lock"),
    "--frozen-lockfile",
    repoPath("main.ts"),
  ]);
  assert.equal(cache.code, 0, cache.stderr);
  const info = await run(Deno.execPath(), ["info", "--json"]);
  assert.equal(info.code, 0, info.stderr);
  return JSON.parse(info.stdout).npmCache;
}

Deno.test("compile: stops with a clear message when the runtime base cannot be downloaded", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    // A DENO_DIR with no cached runtime base (its npm folder is this Deno's npm cache, so
    // the source's packages resolve offline) and a proxy that refuses every connection make
    // the download fail the same way wherever the test runs.
    const denoDir = `${dir.path}/deno-dir`;
    await Deno.mkdir(denoDir);
    await Deno.symlink(await npmCache(), `${denoDir}/npm`);
    const proxy = `http://127.0.0.1:${closedPort()}`;
    const result = await run(Deno.execPath(), [
      "run",
      "-A",
      SCRIPT,
      "--target",
      "aarch64-apple-darwin",
      "--commit",
      "0123456789ab",
      "--out",
      `${dir.path}/dist`,
      "--work-dir",
      `${dir.path}/work`,
    ], {
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: dir.path,
        DENO_DIR: denoDir,
        HTTPS_PROXY: proxy,
        HTTP_PROXY: proxy,
        NO_COLOR: "1",
      },
      clearEnv: true,
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^compiling aarch64-apple-darwin…\nError: cannot build the aarch64-apple-darwin binary: deno compile could not download the Deno runtime base \(denort\) from https:\/\/dl\.deno\.land\/release\/v[\d.]+\/denort-aarch64-apple-darwin\.zip\n {2}error sending request for url \(https:\/\/dl\.deno\.land\//,
    );
    assert.match(result.stderr, /Nothing was written to the output folder/);
    assert.match(result.stderr, /release workflow \(\.github\/workflows\/release\.yml\)/);
    assert.match(
      result.stderr,
      /DENORT_BIN=\/path\/to\/denort deno run -A scripts\/compile\.ts --target aarch64-apple-darwin/,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
    assert.doesNotMatch(result.stderr, /bundling/, "stopped before the bundle");
    await assert.rejects(Deno.stat(`${dir.path}/dist`), Deno.errors.NotFound);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("compile: bad options are refused with a message", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ["--target", "sparc-sun-solaris"],
      {},
      /^Error: unknown target sparc-sun-solaris\nTargets: x86_64-unknown-linux-gnu, /,
    ],
    [
      ["--tag", "v0.0.0-nope"],
      {},
      /^Error: tag v0\.0\.0-nope does not match the version in deno\.json/,
    ],
    [
      ["--frobnicate"],
      {},
      /^Error: Unknown option '--frobnicate'.*\nUsage: deno run -A scripts\/compile\.ts/s,
    ],
    [
      ["--bundle", "cloudsignal.mjs"],
      {},
      /^Error: Unknown option '--bundle'/,
    ],
    [
      [],
      { DENORT_BIN: "/nonexistent/denort" },
      /^Error: DENORT_BIN is the runtime base of one target; choose it with --target/,
    ],
  ];
  for (const [args, env, expected] of cases) {
    const result = await run(Deno.execPath(), ["run", "-A", SCRIPT, ...args], {
      env: { NO_COLOR: "1", ...env },
    });
    assert.equal(result.code, 1, `${args}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.equal(result.stdout, "");
  }
});

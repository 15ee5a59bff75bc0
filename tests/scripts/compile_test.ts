/**
 * scripts/compile.ts up to `deno compile` itself (whose runtime base cannot be downloaded
 * here): targets and arguments, archives and checksums of fake binaries read back with tar,
 * Python's zipfile and sha256sum, the release flow with a stand-in compiler, and the clear
 * stop when the runtime base is unreachable.
 */

import assert from "node:assert/strict";
import {
  archiveName,
  binaryName,
  bundleAssetName,
  checksumsName,
  compileArgs,
  type Compiler,
  denortUrl,
  packageRelease,
  release,
  targetOf,
  TARGETS,
} from "../../scripts/compile.ts";
import { VERSION } from "../../scripts/release_common.ts";
import { tempDir } from "../support/cli.ts";

const SCRIPT = new URL("../../scripts/compile.ts", import.meta.url).pathname;
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

Deno.test("compile: five targets, their archive names, binary names and arguments", () => {
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
  for (const target of TARGETS) {
    const args = compileArgs(target, "/b/cloudsignal.mjs", `/o/${binaryName(target)}`);
    assert.equal(args[0], "compile");
    assert.equal(args[args.indexOf("--target") + 1], target.triple);
    assert.equal(args[args.indexOf("--output") + 1], `/o/${binaryName(target)}`);
    assert.equal(args.at(-1), "/b/cloudsignal.mjs");
    assert.ok(args.includes("--no-config"), "the bundle needs no config or import map");
    assert.ok(!args.some((arg) => arg.startsWith("--include")), "nothing is read at run time");
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
    const outDir = `${dir.path}/dist`;
    const mtime = 1_700_000_000;
    const assets = await packageRelease({ version: "9.8.7", binaries, bundle, outDir, mtime });

    const names = (await Array.fromAsync(Deno.readDir(outDir))).map((e) => e.name).sort();
    assert.deepEqual(names, [
      "cloudsignal-9.8.7-aarch64-apple-darwin.tar.gz",
      "cloudsignal-9.8.7-aarch64-unknown-linux-gnu.tar.gz",
      "cloudsignal-9.8.7-sha256sums.txt",
      "cloudsignal-9.8.7-x86_64-apple-darwin.tar.gz",
      "cloudsignal-9.8.7-x86_64-pc-windows-msvc.zip",
      "cloudsignal-9.8.7-x86_64-unknown-linux-gnu.tar.gz",
      "cloudsignal-9.8.7.mjs",
    ]);
    assert.equal(assets.length, 6);

    const check = await run("sha256sum", [
      "--check",
      "--strict",
      "cloudsignal-9.8.7-sha256sums.txt",
    ], {
      cwd: outDir,
    });
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout.match(/: OK$/gm)?.length, 6, check.stdout);
    const sums = await Deno.readTextFile(`${outDir}/cloudsignal-9.8.7-sha256sums.txt`);
    assert.match(sums, /^([0-9a-f]{64} {2}cloudsignal-9\.8\.7\S+\n){6}$/);

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
      outDir: `${dir.path}/again`,
      mtime,
    });
    assert.deepEqual(again.map((a) => a.sha256), assets.map((a) => a.sha256));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("compile: release() bundles with the commit, compiles each target, packages", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    const calls: string[] = [];
    const compiler: Compiler = async (target, bundle, output) => {
      calls.push(target.triple);
      assert.match(await Deno.readTextFile(bundle), /commit 5eed5eed5eed/);
      await Deno.writeTextFile(output, fakeBinary(target.triple));
    };
    const targets = [targetOf("x86_64-unknown-linux-gnu"), targetOf("x86_64-pc-windows-msvc")];
    const assets = await release(
      {
        targets,
        outDir: `${dir.path}/dist`,
        workDir: `${dir.path}/work`,
        source: { commit: "5eed5eed5eed" },
        version: VERSION,
        mtime: 1_700_000_000,
      },
      compiler,
      () => {},
    );
    assert.deepEqual(calls, ["x86_64-unknown-linux-gnu", "x86_64-pc-windows-msvc"]);
    assert.deepEqual(assets.map((a) => a.name), [
      `cloudsignal-${VERSION}-x86_64-unknown-linux-gnu.tar.gz`,
      `cloudsignal-${VERSION}-x86_64-pc-windows-msvc.zip`,
      `cloudsignal-${VERSION}.mjs`,
    ]);
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
  } finally {
    await dir.cleanup();
  }
});

Deno.test("compile: a target that fails to compile stops the release before any output", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    const bundle = `${dir.path}/bundle.mjs`;
    await Deno.writeTextFile(bundle, "console.log(1);\n");
    const compiler: Compiler = async (target, _bundle, output) => {
      if (target.triple === "aarch64-unknown-linux-gnu") throw new Error("no base for arm");
      await Deno.writeTextFile(output, "binary");
    };
    await assert.rejects(
      release(
        {
          targets: [...TARGETS],
          outDir: `${dir.path}/dist`,
          workDir: `${dir.path}/work`,
          source: { bundle },
          version: "1.0.0",
          mtime: 0,
        },
        compiler,
        () => {},
      ),
      /no base for arm/,
    );
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

Deno.test("compile: stops with a clear message when the runtime base cannot be downloaded", async () => {
  const dir = await tempDir("cloudsignal-release-");
  try {
    const bundle = `${dir.path}/bundle.mjs`;
    await Deno.writeTextFile(bundle, 'console.log("hello");\n');
    const denoDir = `${dir.path}/deno-dir`;
    // An empty DENO_DIR (no cached runtime base) and a proxy that refuses every connection
    // make the download fail the same way wherever the test runs.
    const proxy = `http://127.0.0.1:${closedPort()}`;
    const result = await run(Deno.execPath(), [
      "run",
      "-A",
      SCRIPT,
      "--target",
      "aarch64-apple-darwin",
      "--bundle",
      bundle,
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
      /^compiling aarch64-apple-darwin…\nError: cannot build the aarch64-apple-darwin binary: deno compile could not download the Deno runtime base \(denort\) from https:\/\/dl\.deno\.land\/release\/v[\d.]+\/denort-aarch64-apple-darwin\.zip\n/,
    );
    assert.match(result.stderr, /error sending request/);
    assert.match(result.stderr, /Nothing was written to the output folder/);
    assert.match(result.stderr, /release workflow \(\.github\/workflows\/release\.yml\)/);
    assert.match(
      result.stderr,
      /DENORT_BIN=\/path\/to\/denort deno run -A scripts\/compile\.ts --target aarch64-apple-darwin/,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
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

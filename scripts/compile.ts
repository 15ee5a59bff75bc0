/**
 * Builds the release: a `deno compile`d binary of the source for each target, one archive per
 * target named `cloudsignal-<version>-<target>.tar.gz|zip`, the single-file bundle
 * (scripts/build_bundle.ts) as `cloudsignal-<version>.mjs`, the lazy bundle (the CLI for
 * `deno run`, one chunk per lazily loaded command group) as `cloudsignal-<version>-deno.tar.gz`,
 * and `cloudsignal-<version>-sha256sums.txt` over all of them.
 *
 * The binaries are compiled from the source, not from a bundle: `deno compile` embeds the
 * source's modules as they are and keeps the CLI's lazy loading. The compiled entry is the bundle's release entry (the commit first, then
 * main.ts), written to a temporary folder in the repository's build/ with the build
 * configuration (deno.json less its run-only unstable features, `writeBuildConfig`), and
 * `deno compile` uses the frozen deno.lock, so npm versions are the locked ones.
 * Nothing is `--include`d: the code reads no repository file at run time (JSON is imported)
 * and its lazy imports are literal, which `deno compile` follows; `--exclude-unused-npm`
 * embeds only the npm packages the CLI imports, not the test tools in deno.lock.
 *
 * `deno compile` downloads the runtime base (denort) for each target from dl.deno.land,
 * unless it is cached in DENO_DIR or DENORT_BIN names a local one (then only one target).
 * Where that download fails the script stops, before writing anything to the output folder.
 *
 * Usage: deno run -A scripts/compile.ts [--target <target>]... [--out dist] [--commit <id>]
 *          [--tag v<version>] [--work-dir build/release]
 */

import { buildBundle, buildLazyBundle, writeReleaseEntry } from "./build_bundle.ts";
import { type ArchiveEntry, checksumsText, sha256Hex, tarGz, zip } from "./release_archive.ts";
import {
  parseOptions,
  repoPath,
  resolveCommit,
  runScript,
  ScriptError,
  sourceDateEpoch,
  VERSION,
  writeBuildConfig,
} from "./release_common.ts";

const USAGE = "Usage: deno run -A scripts/compile.ts [--target <target>]... [--out <dir>] " +
  "[--commit <id>] [--tag v<version>] [--work-dir <dir>]";

/** The options of the script (the release workflow's command lines are checked against them). */
export const OPTIONS = {
  target: { type: "string", multiple: true },
  out: { type: "string" },
  commit: { type: "string" },
  tag: { type: "string" },
  "work-dir": { type: "string" },
} as const;

/** A platform the release ships a binary for. */
export interface Target {
  /** Rust target triple, as `deno compile --target` takes it. */
  triple: string;
  archive: "tar.gz" | "zip";
}

/** The release targets. */
export const TARGETS: readonly Target[] = [
  { triple: "x86_64-unknown-linux-gnu", archive: "tar.gz" },
  { triple: "aarch64-unknown-linux-gnu", archive: "tar.gz" },
  { triple: "x86_64-apple-darwin", archive: "tar.gz" },
  { triple: "aarch64-apple-darwin", archive: "tar.gz" },
  { triple: "x86_64-pc-windows-msvc", archive: "zip" },
];

/** The target with this triple; a `ScriptError` listing the known ones otherwise. */
export function targetOf(triple: string): Target {
  const target = TARGETS.find((t) => t.triple === triple);
  if (!target) {
    throw new ScriptError(
      `unknown target ${triple}`,
      `Targets: ${TARGETS.map((t) => t.triple).join(", ")}`,
    );
  }
  return target;
}

/** The executable's name inside the archive. */
export function binaryName(target: Target): string {
  return target.triple.includes("windows") ? "cloudsignal.exe" : "cloudsignal";
}

/** `cloudsignal-<version>-<target>.tar.gz` or `.zip`. */
export function archiveName(version: string, target: Target): string {
  return `cloudsignal-${version}-${target.triple}.${target.archive}`;
}

/** The checksums file of a release. */
export function checksumsName(version: string): string {
  return `cloudsignal-${version}-sha256sums.txt`;
}

/** The lazy bundle as a release asset: its files in the folder `cloudsignal-<version>/`. */
export function lazyBundleAssetName(version: string): string {
  return `cloudsignal-${version}-deno.tar.gz`;
}

/** The single-file bundle as a release asset. */
export function bundleAssetName(version: string): string {
  return `cloudsignal-${version}.mjs`;
}

/** What `deno compile` compiles: the release entry, with the repository's config and lock. */
export interface CompileSource {
  /** The generated release entry: it imports the build info, then the repository's main.ts. */
  entry: string;
  /**
   * The build configuration next to the entry: the repository's deno.json (compiler options,
   * `nodeModulesDir`) without `lazy-dynamic-imports`, which would leave out the lazily
   * imported modules.
   */
  config: string;
  /** The repository's deno.lock, used frozen: the npm versions are the locked ones. */
  lock: string;
}

/**
 * Writes the release entry of `commit` and the build configuration to a temporary folder in
 * the repository's build/, runs `use` with them and removes the folder. Inside the repository, the binary's embedded
 * file system is rooted at the repository rather than at a common parent of the repository
 * and a scratch folder.
 */
export async function withReleaseSource<T>(
  commit: string,
  use: (source: CompileSource) => Promise<T>,
): Promise<T> {
  const build = repoPath("build");
  await Deno.mkdir(build, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: build, prefix: ".release-entry-" });
  try {
    const entry = await writeReleaseEntry(dir, commit);
    const config = await writeBuildConfig(dir);
    return await use({ entry, config, lock: repoPath("deno.lock") });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `deno compile` arguments for one target. */
export function compileArgs(target: Target, source: CompileSource, output: string): string[] {
  return [
    "compile",
    "--allow-all",
    "--config",
    source.config,
    "--lock",
    source.lock,
    "--frozen-lockfile",
    "--exclude-unused-npm",
    "--target",
    target.triple,
    "--output",
    output,
    source.entry,
  ];
}

/** The URL `deno compile` fetches the runtime base from. */
export function denortUrl(target: Target, denoVersion = Deno.version.deno): string {
  return `https://dl.deno.land/release/v${denoVersion}/denort-${target.triple}.zip`;
}

/** Compiles `source` for `target` into `output`. */
export type Compiler = (target: Target, source: CompileSource, output: string) => Promise<void>;

/** True when `deno compile` failed because it could not get the runtime base. */
export function isDenortFailure(stderr: string): boolean {
  return /Setting up base binary|denort/i.test(stderr) &&
    /error sending request|dns error|connect|timed out|tcp|proxy|404|not found|download/i.test(
      stderr,
    );
}

/** The message for a runtime base that could not be had. */
export function denortMessage(target: Target, stderr: string): ScriptError {
  const cause = stderr.split("\n").map((line) => line.trim())
    .find((line) => /error sending request|dns error|404|not found/i.test(line))
    ?.replace(/^\d+:\s*/, "") ?? stderr.trim().split("\n").at(-1) ?? "";
  return new ScriptError(
    `cannot build the ${target.triple} binary: deno compile could not download the Deno ` +
      `runtime base (denort) from ${denortUrl(target)}\n  ${cause}`,
    [
      "Nothing was written to the output folder. To build the binaries:",
      "  - push a tag v<version>: the release workflow (.github/workflows/release.yml) builds them",
      "    on a runner that reaches dl.deno.land; or",
      `  - download ${denortUrl(target)}, unzip it, and run`,
      `    DENORT_BIN=/path/to/denort deno run -A scripts/compile.ts --target ${target.triple}`,
    ].join("\n"),
  );
}

/**
 * Deno's message for a failed `deno compile`, less the listing of embedded files it prints
 * before writing the binary and the empty stack backtrace after the error.
 */
export function compileFailure(stderr: string): string {
  let text = stderr.trim();
  const listing = text.indexOf("Embedded Files");
  const error = text.indexOf("error:", listing);
  if (listing >= 0 && error > listing) text = text.slice(0, listing) + text.slice(error);
  return text.replace(/\n+Stack backtrace:[\s\S]*$/, "").trim();
}

/** The compiler used for real: `deno compile`, with the runtime-base failure made clear. */
export const denoCompile: Compiler = async (target, source, output) => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, source, output),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (result.success) return;
  const stderr = new TextDecoder().decode(result.stderr);
  if (isDenortFailure(stderr)) throw denortMessage(target, stderr);
  throw new ScriptError(`deno compile failed for ${target.triple}:\n${compileFailure(stderr)}`);
};

/** One file of a release. */
export interface Asset {
  name: string;
  path: string;
  sha256: string;
}

/** Options of `packageRelease`. */
export interface PackageOptions {
  version: string;
  /** The compiled binary of each target. */
  binaries: { target: Target; path: string }[];
  bundle: string;
  /** The lazy bundle's folder. */
  lazyBundle: string;
  outDir: string;
  /** Unix seconds recorded in the archives. */
  mtime: number;
}

/** Writes the archives, the bundle asset and the checksums file; returns them. */
export async function packageRelease(options: PackageOptions): Promise<Asset[]> {
  await Deno.mkdir(options.outDir, { recursive: true });
  const assets: Asset[] = [];
  const write = async (name: string, data: Uint8Array) => {
    const path = `${options.outDir}/${name}`;
    await Deno.writeFile(path, data);
    assets.push({ name, path, sha256: await sha256Hex(data) });
  };
  for (const { target, path } of options.binaries) {
    const entries: ArchiveEntry[] = [
      { name: binaryName(target), data: await Deno.readFile(path), mode: 0o755 },
    ];
    const archive = target.archive === "zip"
      ? await zip(entries, options.mtime)
      : await tarGz(entries, options.mtime);
    await write(archiveName(options.version, target), archive);
  }
  await write(bundleAssetName(options.version), await Deno.readFile(options.bundle));
  const folder = `cloudsignal-${options.version}`;
  const files = (await Array.fromAsync(Deno.readDir(options.lazyBundle))).map((e) => e.name);
  const lazy: ArchiveEntry[] = [];
  for (const file of files.sort()) {
    const data = await Deno.readFile(`${options.lazyBundle}/${file}`);
    lazy.push({ name: `${folder}/${file}`, data, mode: 0o644 });
  }
  await write(lazyBundleAssetName(options.version), await tarGz(lazy, options.mtime));
  const checksums = checksumsName(options.version);
  await Deno.writeTextFile(`${options.outDir}/${checksums}`, checksumsText(assets));
  return assets;
}

/** Options of `release`. */
export interface ReleaseOptions {
  targets: Target[];
  outDir: string;
  /** Scratch folder for the binaries and the bundles. */
  workDir: string;
  /** The commit the binaries and the bundles embed. */
  commit: string;
  version: string;
  mtime: number;
}

/**
 * Compiles every target from the source, then bundles, then packages; stops at the first
 * target that fails (the runtime-base download, where it fails, fails first), before the
 * bundle is built and before anything is written to the output folder.
 */
export async function release(
  options: ReleaseOptions,
  compiler: Compiler = denoCompile,
  log: (line: string) => void = console.error,
): Promise<Asset[]> {
  const binaries = await withReleaseSource(options.commit, async (source) => {
    const compiled = [];
    for (const target of options.targets) {
      const dir = `${options.workDir}/${target.triple}`;
      await Deno.mkdir(dir, { recursive: true });
      const path = `${dir}/${binaryName(target)}`;
      log(`compiling ${target.triple}…`);
      await compiler(target, source, path);
      compiled.push({ target, path });
    }
    return compiled;
  });
  log("bundling…");
  const lazyBundle = await buildLazyBundle({
    outDir: `${options.workDir}/lazy`,
    commit: options.commit,
  });
  const bundle = await buildBundle({
    output: `${options.workDir}/cloudsignal.mjs`,
    commit: options.commit,
  });
  return await packageRelease({
    ...options,
    binaries,
    bundle,
    lazyBundle: lazyBundle.slice(0, lazyBundle.lastIndexOf("/")),
  });
}

/** Checks a release tag against deno.json's version. */
export function checkTag(tag: string, version: string): void {
  if (tag !== `v${version}`) {
    throw new ScriptError(
      `tag ${tag} does not match the version in deno.json (${version})`,
      `Set "version": "${tag.replace(/^v/, "")}" in deno.json, or tag v${version}.`,
    );
  }
}

if (import.meta.main) {
  await runScript(async () => {
    const options = parseOptions(Deno.args, OPTIONS, USAGE);
    if (options.tag !== undefined) checkTag(options.tag, VERSION);
    const targets = (options.target ?? TARGETS.map((t) => t.triple)).map(targetOf);
    if (Deno.env.get("DENORT_BIN") && targets.length !== 1) {
      throw new ScriptError(
        "DENORT_BIN is the runtime base of one target; choose it with --target <target>",
      );
    }
    const assets = await release({
      targets,
      outDir: options.out ?? repoPath("dist"),
      workDir: options["work-dir"] ?? repoPath("build/release"),
      commit: await resolveCommit(options.commit),
      version: VERSION,
      mtime: sourceDateEpoch(),
    });
    for (const asset of assets) console.log(`${asset.sha256}  ${asset.path}`);
  });
}

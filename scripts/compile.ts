/**
 * Builds the release: the single-file bundle (scripts/build_bundle.ts), a `deno compile`d
 * binary of it for each target, one archive per target named
 * `cloudsignal-<version>-<target>.tar.gz|zip`, the bundle as `cloudsignal-<version>.mjs`, and
 * `cloudsignal-<version>-sha256sums.txt` over all of them. The binary reads no file at run
 * time (JSON is imported, lazy imports are literal and bundled), so nothing is `--include`d.
 *
 * `deno compile` downloads the runtime base (denort) for each target from dl.deno.land,
 * unless it is cached in DENO_DIR or DENORT_BIN names a local one (then only one target).
 * Where that download fails the script stops, before writing anything to the output folder.
 *
 * Usage: deno run -A scripts/compile.ts [--target <target>]... [--out dist] [--commit <id>]
 *          [--tag v<version>] [--bundle <file.mjs>] [--work-dir build/release]
 * --bundle compiles an existing bundle instead of building one (then --commit is unused).
 */

import { buildBundle } from "./build_bundle.ts";
import { type ArchiveEntry, checksumsText, sha256Hex, tarGz, zip } from "./release_archive.ts";
import {
  parseOptions,
  repoPath,
  resolveCommit,
  runScript,
  ScriptError,
  sourceDateEpoch,
  VERSION,
} from "./release_common.ts";

const USAGE = "Usage: deno run -A scripts/compile.ts [--target <target>]... [--out <dir>] " +
  "[--commit <id>] [--tag v<version>] [--bundle <file.mjs>] [--work-dir <dir>]";

/** The options of the script (the release workflow's command lines are checked against them). */
export const OPTIONS = {
  target: { type: "string", multiple: true },
  out: { type: "string" },
  commit: { type: "string" },
  tag: { type: "string" },
  bundle: { type: "string" },
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

/** The single-file bundle as a release asset. */
export function bundleAssetName(version: string): string {
  return `cloudsignal-${version}.mjs`;
}

/** `deno compile` arguments for one target. */
export function compileArgs(target: Target, bundle: string, output: string): string[] {
  return [
    "compile",
    "--allow-all",
    "--no-config",
    "--no-lock",
    "--target",
    target.triple,
    "--output",
    output,
    bundle,
  ];
}

/** The URL `deno compile` fetches the runtime base from. */
export function denortUrl(target: Target, denoVersion = Deno.version.deno): string {
  return `https://dl.deno.land/release/v${denoVersion}/denort-${target.triple}.zip`;
}

/** Compiles `bundle` for `target` into `output`. */
export type Compiler = (target: Target, bundle: string, output: string) => Promise<void>;

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

/** The compiler used for real: `deno compile`, with the runtime-base failure made clear. */
export const denoCompile: Compiler = async (target, bundle, output) => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, bundle, output),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (result.success) return;
  const stderr = new TextDecoder().decode(result.stderr);
  if (isDenortFailure(stderr)) throw denortMessage(target, stderr);
  throw new ScriptError(`deno compile failed for ${target.triple}:\n${stderr.trim()}`);
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
  const checksums = checksumsName(options.version);
  await Deno.writeTextFile(`${options.outDir}/${checksums}`, checksumsText(assets));
  return assets;
}

/** Options of `release`. */
export interface ReleaseOptions {
  targets: Target[];
  outDir: string;
  /** Scratch folder for the bundle and the binaries. */
  workDir: string;
  /** What to compile: an existing bundle, or the commit to build one for. */
  source: { bundle: string } | { commit: string };
  version: string;
  mtime: number;
}

/** Bundles, compiles every target, then packages; stops at the first target that fails. */
export async function release(
  options: ReleaseOptions,
  compiler: Compiler = denoCompile,
  log: (line: string) => void = console.error,
): Promise<Asset[]> {
  const bundle = "bundle" in options.source ? options.source.bundle : await buildBundle({
    output: `${options.workDir}/cloudsignal.mjs`,
    commit: options.source.commit,
  });
  const binaries = [];
  for (const target of options.targets) {
    const dir = `${options.workDir}/${target.triple}`;
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${binaryName(target)}`;
    log(`compiling ${target.triple}…`);
    await compiler(target, bundle, path);
    binaries.push({ target, path });
  }
  return await packageRelease({ ...options, binaries, bundle });
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
      source: options.bundle
        ? { bundle: options.bundle }
        : { commit: await resolveCommit(options.commit) },
      version: VERSION,
      mtime: sourceDateEpoch(),
    });
    for (const asset of assets) console.log(`${asset.sha256}  ${asset.path}`);
  });
}

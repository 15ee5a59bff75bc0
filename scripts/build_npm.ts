/**
 * Builds the npm packages in a folder of their own (never the repository root), as esbuild,
 * Biome and Turborepo ship native tools:
 *
 * - `<out>/cli-<os>-<cpu>/`: `@cloudsignal/cli-<os>-<cpu>`, one per release target, holding
 *   the `deno compile`d binary, restricted to its platform (`os`, `cpu`, `libc`);
 * - `<out>/cli/`: `@cloudsignal/cli`, with those as optional dependencies (npm installs the
 *   one that fits), the lazy bundle (scripts/build_bundle.ts), the launcher
 *   `bin/cloudsignal` (npm/cloudsignal.cjs, with npm/platform.cjs as lib/platform.cjs) and
 *   the install script (npm/install.cjs) that replaces the launcher with the native binary,
 *   or with a shell script running the lazy bundle on Deno where no binary fits.
 *
 * Publish the platform packages first, then `cli/`: `npm publish <folder> --access public`.
 *
 * Usage: deno run -A scripts/build_npm.ts [--out build/npm] [--commit <id>]
 *          [--binaries <dir>] [--binary <target>=<file>]...
 *   --binaries: scripts/compile.ts's work folder, with `<target>/cloudsignal[.exe]` for
 *               every release target;
 *   --binary:   one target's binary (a partial set, for trying the package out).
 *   Without either, the package has no native binary and always runs on Deno.
 */

import { buildLazyBundle } from "./build_bundle.ts";
import { binaryName, type Target, targetOf, TARGETS } from "./compile.ts";
import {
  parseOptions,
  repoPath,
  resolveCommit,
  runScript,
  ScriptError,
  VERSION,
} from "./release_common.ts";

const USAGE = "Usage: deno run -A scripts/build_npm.ts [--out <dir>] [--commit <id>] " +
  "[--binaries <dir>] [--binary <target>=<file>]...";

/** The options of the script (the release workflow's command lines are checked against them). */
export const OPTIONS = {
  out: { type: "string" },
  commit: { type: "string" },
  binaries: { type: "string" },
  binary: { type: "string", multiple: true },
} as const;

/** The npm package's name. */
export const PACKAGE_NAME = "@cloudsignal/cli";

/** Where the packages go unless --out says otherwise. */
export const DEFAULT_OUT = "build/npm";

const REPOSITORY = { type: "git", url: "git+https://github.com/cloudsignal/cli.git" };

/** Node.js's names for a target's platform, as npm matches `os`, `cpu` and `libc`. */
export interface NpmPlatform {
  os: "linux" | "darwin" | "win32";
  cpu: "x64" | "arm64";
  libc?: "glibc";
}

/** The npm platform of a release target. */
export function npmPlatform(target: Target): NpmPlatform {
  const cpu = target.triple.startsWith("aarch64-") ? "arm64" : "x64";
  if (target.triple.includes("-linux-")) return { os: "linux", cpu, libc: "glibc" };
  if (target.triple.includes("-apple-")) return { os: "darwin", cpu };
  return { os: "win32", cpu };
}

/** `@cloudsignal/cli-<os>-<cpu>`: what the launcher looks for on that platform. */
export function platformPackageName(target: Target): string {
  const { os, cpu } = npmPlatform(target);
  return `${PACKAGE_NAME}-${os}-${cpu}`;
}

const DESCRIPTION =
  "The CloudSignal command line: ACL policies as files, simulate and test them, identity claims, login.";

/** The package.json of `@cloudsignal/cli`, with the platform packages it may install. */
export function packageJson(version: string, targets: Target[]): Record<string, unknown> {
  const optional = Object.fromEntries(targets.map((t) => [platformPackageName(t), version]));
  return {
    name: PACKAGE_NAME,
    version,
    description: DESCRIPTION,
    keywords: ["cloudsignal", "mqtt", "acl", "cli"],
    homepage: "https://cloudsignal.io",
    repository: REPOSITORY,
    bin: { cloudsignal: "bin/cloudsignal" },
    scripts: { postinstall: "node install.cjs" },
    files: ["bin/cloudsignal", "install.cjs", "lib/platform.cjs", "lazy/", "README.md"],
    optionalDependencies: optional,
    engines: { node: ">=18" },
  };
}

/** The package.json of a platform package. */
export function platformPackageJson(version: string, target: Target): Record<string, unknown> {
  const platform = npmPlatform(target);
  return {
    name: platformPackageName(target),
    version,
    description: `The cloudsignal binary for ${target.triple}; installed by ${PACKAGE_NAME}.`,
    homepage: "https://cloudsignal.io",
    repository: REPOSITORY,
    os: [platform.os],
    cpu: [platform.cpu],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    files: [binaryName(target), "README.md"],
    preferUnplugged: true,
  };
}

/**
 * Empties `dir` for a new build: it must be missing, empty, or hold only earlier builds
 * (folders whose package.json names a @cloudsignal/cli package).
 */
async function emptyFolder(dir: string): Promise<void> {
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const entry of entries) {
    const manifest = await Deno.readTextFile(`${dir}/${entry.name}/package.json`)
      .catch(() => "{}");
    const name = (JSON.parse(manifest) as { name?: string }).name ?? "";
    if (!entry.isDirectory || !name.startsWith(PACKAGE_NAME)) {
      throw new ScriptError(
        `${dir} is not empty and holds no earlier build of ${PACKAGE_NAME}; not replacing it`,
      );
    }
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** A target's binary to package. */
export interface PackagedBinary {
  target: Target;
  path: string;
}

/** Options of `buildNpmPackages`. */
export interface NpmBuildOptions {
  outDir: string;
  commit: string;
  binaries: PackagedBinary[];
}

/** The folders `buildNpmPackages` wrote. */
export interface NpmPackages {
  /** `@cloudsignal/cli`. */
  main: string;
  /** The platform packages, in release-target order. */
  platforms: string[];
}

/** Builds the packages into `outDir`. */
export async function buildNpmPackages(options: NpmBuildOptions): Promise<NpmPackages> {
  const outDir = options.outDir.replace(/\/+$/, "");
  if (outDir === repoPath("").replace(/\/+$/, "")) {
    throw new ScriptError(
      "the npm packages are built in a folder of their own, not the repository",
    );
  }
  await emptyFolder(outDir);
  const binaries = TARGETS.flatMap((target) =>
    options.binaries.filter((binary) => binary.target === target)
  );
  const platforms = [];
  for (const { target, path } of binaries) {
    const dir = `${outDir}/${platformPackageName(target).slice("@cloudsignal/".length)}`;
    await Deno.mkdir(dir);
    await Deno.copyFile(path, `${dir}/${binaryName(target)}`);
    await Deno.chmod(`${dir}/${binaryName(target)}`, 0o755);
    await Deno.writeTextFile(
      `${dir}/README.md`,
      `# ${platformPackageName(target)}\n\nThe \`cloudsignal\` binary for ${target.triple}. ` +
        `Install [${PACKAGE_NAME}](https://www.npmjs.com/package/${PACKAGE_NAME}) instead: it ` +
        "installs the package of your platform and runs it.\n",
    );
    await writeJson(`${dir}/package.json`, platformPackageJson(VERSION, target));
    platforms.push(dir);
  }
  const main = `${outDir}/cli`;
  await Deno.mkdir(`${main}/bin`, { recursive: true });
  await Deno.mkdir(`${main}/lib`);
  await buildLazyBundle({ outDir: `${main}/lazy`, commit: options.commit });
  await Deno.copyFile(repoPath("npm/cloudsignal.cjs"), `${main}/bin/cloudsignal`);
  await Deno.chmod(`${main}/bin/cloudsignal`, 0o755);
  await Deno.copyFile(repoPath("npm/platform.cjs"), `${main}/lib/platform.cjs`);
  await Deno.copyFile(repoPath("npm/install.cjs"), `${main}/install.cjs`);
  await Deno.copyFile(repoPath("npm/README.md"), `${main}/README.md`);
  await writeJson(
    `${main}/package.json`,
    packageJson(VERSION, binaries.map((binary) => binary.target)),
  );
  return { main, platforms };
}

/** The binaries named by --binaries and --binary; a `ScriptError` for a missing file. */
export async function binariesOf(
  folder: string | undefined,
  pairs: string[] = [],
): Promise<PackagedBinary[]> {
  const found: PackagedBinary[] = [];
  if (folder !== undefined) {
    for (const target of TARGETS) {
      found.push({ target, path: `${folder}/${target.triple}/${binaryName(target)}` });
    }
  }
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw new ScriptError(`--binary ${pair}: expected <target>=<file>`);
    found.push({ target: targetOf(pair.slice(0, at)), path: pair.slice(at + 1) });
  }
  const seen = new Set<Target>();
  for (const { target, path } of found) {
    if (seen.has(target)) throw new ScriptError(`two binaries for ${target.triple}`);
    seen.add(target);
    const info = await Deno.stat(path).catch(() => null);
    if (!info?.isFile) {
      throw new ScriptError(
        `no binary for ${target.triple} at ${path}`,
        folder === undefined ? undefined : "Build them first: deno run -A scripts/compile.ts",
      );
    }
  }
  return found;
}

if (import.meta.main) {
  await runScript(async () => {
    const options = parseOptions(Deno.args, OPTIONS, USAGE);
    const built = await buildNpmPackages({
      outDir: options.out ?? repoPath(DEFAULT_OUT),
      commit: await resolveCommit(options.commit),
      binaries: await binariesOf(options.binaries, options.binary),
    });
    for (const dir of [...built.platforms, built.main]) console.log(dir);
  });
}

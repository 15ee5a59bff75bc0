/**
 * Builds the npm package `@cloudsignal/cli` in a folder of its own (never the repository
 * root): package.json, the bundled CLI (`cloudsignal.mjs`, scripts/build_bundle.ts), the
 * launcher `bin/cloudsignal.cjs` (npm/cloudsignal.cjs) that runs it on the `deno` npm
 * package, and a README. Publish with `npm publish <folder> --access public`.
 *
 * Usage: deno run -A scripts/build_npm.ts [--out build/npm] [--commit <id>]
 */

import { buildBundle } from "./build_bundle.ts";
import {
  parseOptions,
  repoPath,
  resolveCommit,
  runScript,
  ScriptError,
  VERSION,
} from "./release_common.ts";

const USAGE = "Usage: deno run -A scripts/build_npm.ts [--out <dir>] [--commit <id>]";

/** The options of the script (the release workflow's command lines are checked against them). */
export const OPTIONS = {
  out: { type: "string" },
  commit: { type: "string" },
} as const;

/** The npm package's name. */
export const PACKAGE_NAME = "@cloudsignal/cli";

/** The package.json of the npm package. */
export function packageJson(version: string, denoVersion: string): Record<string, unknown> {
  return {
    name: PACKAGE_NAME,
    version,
    description:
      "The CloudSignal command line: ACL policies as files, simulate and test them, identity claims, login.",
    keywords: ["cloudsignal", "mqtt", "acl", "cli"],
    homepage: "https://cloudsignal.io",
    repository: { type: "git", url: "git+https://github.com/cloudsignal/cli.git" },
    bin: { cloudsignal: "bin/cloudsignal.cjs" },
    files: ["bin/cloudsignal.cjs", "cloudsignal.mjs", "README.md"],
    dependencies: { deno: denoVersion },
    engines: { node: ">=18" },
    os: ["darwin", "linux", "win32"],
    cpu: ["x64", "arm64"],
  };
}

async function emptyFolder(dir: string): Promise<void> {
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (entries.length > 0) {
    const manifest = await Deno.readTextFile(`${dir}/package.json`).catch(() => "{}");
    if ((JSON.parse(manifest) as { name?: string }).name !== PACKAGE_NAME) {
      throw new ScriptError(
        `${dir} is not empty and holds no earlier build of ${PACKAGE_NAME}; not replacing it`,
      );
    }
    await Deno.remove(dir, { recursive: true });
  }
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
}

/** Builds the package into `outDir`; returns `outDir`. */
export async function buildNpmPackage(options: { outDir: string; commit: string }) {
  const outDir = options.outDir.replace(/\/+$/, "");
  if (outDir === repoPath("").replace(/\/+$/, "")) {
    throw new ScriptError("the npm package is built in a folder of its own, not the repository");
  }
  await emptyFolder(outDir);
  await buildBundle({ output: `${outDir}/cloudsignal.mjs`, commit: options.commit });
  await Deno.copyFile(repoPath("npm/cloudsignal.cjs"), `${outDir}/bin/cloudsignal.cjs`);
  await Deno.chmod(`${outDir}/bin/cloudsignal.cjs`, 0o755);
  await Deno.copyFile(repoPath("npm/README.md"), `${outDir}/README.md`);
  await Deno.writeTextFile(
    `${outDir}/package.json`,
    JSON.stringify(packageJson(VERSION, Deno.version.deno), null, 2) + "\n",
  );
  return outDir;
}

if (import.meta.main) {
  await runScript(async () => {
    const options = parseOptions(Deno.args, OPTIONS, USAGE);
    const outDir = await buildNpmPackage({
      outDir: options.out ?? repoPath("build/npm"),
      commit: await resolveCommit(options.commit),
    });
    console.log(outDir);
  });
}

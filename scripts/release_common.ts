/** What the build and release scripts share: paths, version, commit, options, errors. */

import { parseArgs } from "node:util";
import config from "../deno.json" with { type: "json" };

/** The repository root, with a trailing slash. */
export const ROOT = new URL("../", import.meta.url);

/** Absolute path of a file in the repository. */
export function repoPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/** The release version (deno.json). */
export const VERSION: string = config.version;

/**
 * Unstable features of deno.json that only `deno run` may have: with `lazy-dynamic-imports`,
 * `deno compile` and `deno bundle` leave out every module loaded with `await import()`.
 */
export const RUN_ONLY_UNSTABLE_FEATURES = ["lazy-dynamic-imports"];

/** deno.json keys that hold paths, which a copy of the config in another folder would break. */
const PATH_KEYS = ["imports", "scopes", "importMap", "workspace", "links", "patch"];

/**
 * Writes `<dir>/deno.json`, the configuration builds use: the repository's deno.json without
 * the run-only unstable features and without what only tools read (tasks, fmt, lint, test).
 * Returns its path. The lock is passed to the build with `--lock`.
 */
export async function writeBuildConfig(dir: string): Promise<string> {
  const source = JSON.parse(await Deno.readTextFile(repoPath("deno.json")));
  const paths = PATH_KEYS.filter((key) => key in source);
  if (paths.length > 0) {
    throw new ScriptError(
      `deno.json has ${paths.join(", ")}: writeBuildConfig (scripts/release_common.ts) ` +
        "cannot copy it to another folder yet",
    );
  }
  const { tasks: _t, fmt: _f, lint: _l, test: _x, exports: _e, unstable, ...kept } = source;
  const features = (unstable as string[] | undefined ?? [])
    .filter((feature) => !RUN_ONLY_UNSTABLE_FEATURES.includes(feature));
  const build = features.length > 0 ? { ...kept, unstable: features } : kept;
  const path = `${dir}/deno.json`;
  await Deno.writeTextFile(path, JSON.stringify(build, null, 2) + "\n");
  return path;
}

/** A failure the person running the script can act on: printed without a stack trace. */
export class ScriptError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "ScriptError";
  }
}

/** Runs a script's main function: `Error: <message>` and exit 1 for a `ScriptError`. */
export async function runScript(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof ScriptError)) throw error;
    console.error(`Error: ${error.message}`);
    if (error.hint) console.error(error.hint);
    Deno.exit(1);
  }
}

/** Option definitions for `parseOptions`. */
export type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;

/** Parses `args` strictly; an unknown option or a stray argument is a `ScriptError`. */
export function parseOptions<T extends OptionSpec>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ScriptError((error as Error).message, usage);
  }
}

async function git(args: string[]): Promise<string | null> {
  try {
    const result = await new Deno.Command("git", {
      args,
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    return result.success ? new TextDecoder().decode(result.stdout).trim() : null;
  } catch {
    return null;
  }
}

/**
 * The commit a build embeds: `explicit` when given, else the repository's HEAD (12 hex
 * digits, `-dirty` when tracked files changed).
 */
export async function resolveCommit(explicit?: string): Promise<string> {
  const commit = explicit ?? await headCommit();
  if (!/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/.test(commit)) {
    throw new ScriptError(`--commit ${JSON.stringify(commit)} is not a commit id`);
  }
  return commit;
}

async function headCommit(): Promise<string> {
  const head = await git(["rev-parse", "--short=12", "HEAD"]);
  if (!head) {
    throw new ScriptError(
      "cannot read the commit with git",
      "Run inside the repository with git installed, or pass --commit <id>.",
    );
  }
  const changes = await git(["status", "--porcelain", "--untracked-files=no"]);
  return changes ? `${head}-dirty` : head;
}

/** The time archives record: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
export function sourceDateEpoch(): number {
  const value = Deno.env.get("SOURCE_DATE_EPOCH");
  if (value === undefined) return Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(value)) throw new ScriptError(`SOURCE_DATE_EPOCH=${value} is not a number`);
  return Number(value);
}

/** Runs `deno <args>`; throws a `ScriptError` with Deno's own message when it fails. */
export async function runDeno(args: string[], what: string): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!result.success) {
    const output = new TextDecoder().decode(result.stderr).trim();
    throw new ScriptError(`${what} failed:\n${output}`);
  }
}

/** Helpers of the distribution tests: run a program, build with the release scripts. */

import assert from "node:assert/strict";
import { type ProcessResult, runProcess } from "../support/process.ts";

/** The repository root (absolute path with a trailing slash). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** What a program run produced. */
export type RunResult = ProcessResult;

/** Options of `run`. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
  /** Kill after this many milliseconds (default 120 s). */
  timeoutMs?: number;
}

/**
 * Runs `command` with this environment (its proxy and certificate settings reach the npm
 * registry) less DENO_DIR, plus `env`, and collects its output.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.DENO_DIR;
  return runProcess(command, args, {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdin: options.stdin,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}

/** Runs `deno run -A <ROOT>/scripts/<script> <args>` and expects success. */
export async function runScript(script: string, args: string[]): Promise<string> {
  const result = await run(Deno.execPath(), ["run", "-A", `${ROOT}scripts/${script}`, ...args], {
    env: denoDirEnv(),
  });
  assert.equal(result.code, 0, `${script} ${args.join(" ")}\n${result.stderr}`);
  return result.stdout;
}

/** This process's DENO_DIR, if set (the build scripts need the npm cache). */
export function denoDirEnv(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir ? { DENO_DIR: dir } : {};
}

/** Fails unless no Deno or npm configuration file is in `dir` or any folder above it. */
export async function assertNoConfigInReach(dir: string): Promise<void> {
  let at = dir;
  while (true) {
    for (const name of ["deno.json", "deno.jsonc", "package.json", "import_map.json"]) {
      await assert.rejects(
        Deno.stat(`${at}/${name}`),
        Deno.errors.NotFound,
        `${at}/${name} would be in reach`,
      );
    }
    if (at === "/" || at === "") return;
    at = at.slice(0, at.lastIndexOf("/")) || "/";
  }
}

/** The names in `dir`. */
export async function listDir(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

/** The policy of examples/agent-card.json, and a simulate request it allows. */
export const AGENT_CARD = await Deno.readTextFile(`${ROOT}examples/agent-card.json`);

/** `acl simulate` flags (without --policy) that agent-card.json allows. */
export const ALLOWED_REQUEST = [
  "--username",
  "scout",
  "--claim",
  "agent_id=scout",
  "--action",
  "pub",
  "--topic",
  "agents/scout/card",
];

/** The same, for another agent's card: denied. */
export const DENIED_REQUEST = [...ALLOWED_REQUEST.slice(0, -1), "agents/other/card"];

/** What `acl simulate` prints for ALLOWED_REQUEST. */
export const ALLOWED_OUTPUT =
  /^Allowed - matches rules\[0\] \(agents\/\{\$self\}\/card resolves to agents\/scout\/card which matches agents\/scout\/card\)\n/;

/** The release target of this machine (where the tests run). */
export function hostTarget(): string {
  const arch = Deno.build.arch;
  switch (Deno.build.os) {
    case "linux":
      return `${arch}-unknown-linux-gnu`;
    case "darwin":
      return `${arch}-apple-darwin`;
    default:
      return `${arch}-pc-windows-msvc`;
  }
}

/** A `cloudsignal dev` started for a test, once it printed its JSON line. */
export interface RunningDev {
  child: Deno.ChildProcess;
  /** The JSON line's fields. */
  info: { mqtt_url: string; organization: { short_id: string }; user: Record<string, string> };
  /** Everything it wrote to stderr, once it ended. */
  stderr: Promise<string>;
}

/**
 * Starts `<command> <args> dev --api-port 0 --mqtt-port 0 --json` with this environment (less
 * DENO_DIR) plus `env`, and waits for its JSON line. `detached` puts it in a session of its
 * own, so a signal can be sent to its whole process group as a terminal's Ctrl-C is.
 */
export async function startDev(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { detached?: boolean; cwd?: string } = {},
): Promise<RunningDev> {
  const fullEnv: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...env };
  if (!("DENO_DIR" in env)) delete fullEnv.DENO_DIR;
  const child = new Deno.Command(command, {
    args: [...args, "dev", "--api-port", "0", "--mqtt-port", "0", "--json"],
    env: fullEnv,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: options.detached ?? false,
    cwd: options.cwd,
  }).spawn();
  const stderr = (async () => {
    let text = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) text += chunk;
    return text;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`dev ended early:\n${await stderr}`);
      line += value;
    }
    // Keep reading, so that later output never meets a closed pipe.
    (async () => {
      while (!(await reader.read()).done) { /* drained */ }
    })();
    return { child, info: JSON.parse(line.split("\n")[0]), stderr };
  } finally {
    clearTimeout(killer);
  }
}

/** The npm packages (`name@version`) in a DENO_DIR's npm cache, sorted. */
export async function npmPackagesIn(denoDir: string): Promise<string[]> {
  const registry = `${denoDir}/npm/registry.npmjs.org`;
  const found: string[] = [];
  for (const entry of await listDir(registry).catch(() => [])) {
    const names = entry.startsWith("@")
      ? (await listDir(`${registry}/${entry}`)).map((name) => `${entry}/${name}`)
      : [entry];
    for (const name of names) {
      for (const item of await listDir(`${registry}/${name}`)) {
        const info = await Deno.stat(`${registry}/${name}/${item}`);
        if (info.isDirectory) found.push(`${name}@${item}`);
      }
    }
  }
  return found.sort();
}

/**
 * The flags of the `deno run <URL>` channel: `--no-config` so that a deno.json of the user's folder changes
 * nothing, and lazily loaded dynamic imports, without which Deno fetches every module and npm
 * package that any `await import()` of the CLI names before running anything.
 */
export const URL_CHANNEL_FLAGS = ["-A", "--no-config", "--unstable-lazy-dynamic-imports"];

/** Serves the files of the repository read-only; records every request. */
export function serveRepository() {
  const requests: { path: string; status: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    let status = 404;
    let body: Uint8Array | null = null;
    if (request.method === "GET" && !path.split("/").includes("..")) {
      try {
        body = await Deno.readFile(`${ROOT}${path.slice(1)}`);
        status = 200;
      } catch { /* not a file */ }
    }
    requests.push({ path, status });
    return new Response(body as Uint8Array<ArrayBuffer> | null, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, requests, server };
}

/** The arguments of `deno` in the README's first command (`npx -y deno@<this version> …`). */
export async function readmeFirstCommand(): Promise<string[]> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const line = readme.match(/```sh\n([^\n]+)\n/)?.[1];
  assert.ok(line, "README.md starts with a sh block");
  const words = line.split(/\s+/);
  assert.deepEqual(words.slice(0, 3), ["npx", "-y", `deno@${Deno.version.deno}`], line);
  return words.slice(3);
}

/** Copies the repository's files (tracked, and new ones git does not ignore) to `dir`. */
export async function copyRepository(dir: string): Promise<void> {
  const listed = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: ROOT,
    },
  );
  assert.equal(listed.code, 0, listed.stderr);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const info = await Deno.lstat(`${ROOT}${file}`).catch(() => null);
    if (!info?.isFile) continue; // deleted in the working tree
    const target = `${dir}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${ROOT}${file}`, target);
  }
}

/** Runs the real CLI (`deno run -A main.ts …`) as a subprocess, for end-to-end tests. */

import { type ProcessResult, runProcess } from "./process.ts";

/** What a CLI run produced. */
export type CliResult = ProcessResult;

/** Options of `runCli`. */
export interface RunCliOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string | Uint8Array;
  /** Kill the process after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** Absolute path of the repository's main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Environment every CLI run gets unless overridden: no colour, an isolated home. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Runs `cloudsignal <args>` and collects its exit code and output. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return runProcess(Deno.execPath(), ["run", "-A", "--quiet", MAIN, ...args], {
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env },
    stdin: options.stdin,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(prefix = "cloudsignal-test-"): Promise<
  { path: string; cleanup: () => Promise<void> }
> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, cleanup: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}

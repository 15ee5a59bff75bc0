/**
 * `cloudsignal dev` as a child process for the session tests: started on free ports (or
 * again on the same API port, with `--reset`), its seeded user the one `signIn` uses, its
 * log kept for checking that no token is ever printed.
 */

import { type CliResult, MAIN, runCli } from "../support/cli.ts";
import { EMAIL, PASSWORD } from "../auth/support/login_flow.ts";

/** What `cloudsignal dev --json` printed. */
export interface DevInfo {
  api_url: string;
  mqtt_url: string;
  organization: { id: string; short_id: string; name: string };
  user: { id: string; username: string; email: string };
}

/** A running `cloudsignal dev`. */
export interface DevPlatform {
  info: DevInfo;
  apiUrl: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Stops it with SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `cloudsignal dev --json` with data in `dataDir`; `apiPort` pins the API port (to
 * come back on the same URL after `--reset`); `args` are more flags.
 */
export async function startDev(
  dataDir: string,
  options: { apiPort?: number; reset?: boolean; args?: string[] } = {},
): Promise<DevPlatform> {
  const args = [
    "run",
    "-A",
    "--quiet",
    MAIN,
    "dev",
    "--api-port",
    String(options.apiPort ?? 0),
    "--mqtt-port",
    "0",
    "--data-dir",
    dataDir,
    "--email",
    EMAIL,
    "--password",
    PASSWORD,
    "--quiet-publishes",
    "--json",
    ...(options.reset ? ["--reset"] : []),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let line: string | undefined;
  while ((line = output.split("\n").find((l) => l.startsWith("{"))) === undefined) {
    const ended = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
    ]);
    if (ended && !output.split("\n").some((l) => l.startsWith("{"))) {
      clearTimeout(guard);
      await pumps;
      throw new Error(`cloudsignal dev ended early:\n${output}`);
    }
  }
  clearTimeout(guard);
  const info = JSON.parse(line) as DevInfo;
  return {
    info,
    apiUrl: info.api_url,
    output: () => output,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await pumps;
    },
  };
}

/** The environment of a CLI run with its own home and no API URL: the current session decides. */
export function homeEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { CLOUDSIGNAL_HOME: home, ...extra };
}

/** `homeEnv` as the whole environment of a spawned CLI (`spawnCli` inherits nothing). */
export function childEnv(home: string): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", ...homeEnv(home) };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Runs the CLI with `home` as its state directory. */
export function cli(
  home: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(args, { env: homeEnv(home, extra) });
}

/** Runs a program to completion for a test: exit code and output, killed after a time limit. */

/** What a program run produced. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of `runProcess`. */
export interface ProcessOptions {
  cwd?: string;
  /** The whole environment of the program (nothing else is inherited). */
  env: Record<string, string>;
  stdin?: string | Uint8Array;
  /** Kill the process after this many milliseconds. */
  timeoutMs: number;
}

/** Runs `command` with exactly `options.env` and collects its exit code and output. */
export async function runProcess(
  command: string,
  args: string[],
  options: ProcessOptions,
): Promise<ProcessResult> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(
        typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
      );
      await writer.close();
    } catch (error) {
      // The program may stop reading early (e.g. input over a limit); that is its answer.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  }
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

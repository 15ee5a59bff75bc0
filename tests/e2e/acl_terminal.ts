/**
 * Runs the real CLI on a pseudo-terminal (util-linux `script`), for what only happens on a
 * terminal: formatted JSON, questions, pagers and editors that share it.
 */

import { MAIN } from "../support/cli.ts";
import { runProcess } from "../support/process.ts";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** What a run on a terminal printed: stdout and stderr mixed, as a terminal shows them. */
export interface TerminalResult {
  code: number;
  /**
   * Everything the terminal showed, with its `\r\n` turned into `\n` and the progress
   * spinner's frames (drawn and erased on stderr when a step is slow) taken out.
   */
  output: string;
}

/** Runs `cloudsignal <args>` with a terminal as stdin, stdout and stderr; `input` is typed. */
export async function runOnTerminal(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<TerminalResult> {
  const command = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args].map(shellQuote)
    .join(" ");
  const result = await runProcess("script", ["-qefc", command, "/dev/null"], {
    env: { TERM: "dumb", ...env },
    stdin: input ?? "",
    timeoutMs: 60_000,
  });
  const output = result.stdout.replaceAll("\r\n", "\n")
    // deno-lint-ignore no-control-regex -- the spinner's escape sequences are what is removed
    .replace(/\r\u001b\[2K(?:[^\r\n]*…)?/g, "");
  return { code: result.code, output };
}

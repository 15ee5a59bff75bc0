/**
 * Reads `deno test` output as it streams: results so far, tests reported as still running,
 * and the final summary line. `scripts/run_tests.ts` uses it for CI's `N passed, N failed`
 * line and to name the tests a hang left running.
 */

/** What `deno test` has reported so far. */
export interface TestOutput {
  /** Tests (not steps) reported `ok`. */
  passed: number;
  /** Tests (not steps) reported `FAILED` or `cancelled`, and files failed by uncaught errors. */
  failed: number;
  /** Tests reported as "has been running for over …" with no result yet. */
  running: string[];
  /** The counts of deno's closing `ok | N passed | N failed` line, once printed. */
  summary?: { passed: number; failed: number };
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const RESULT = /^(?:\.\/\S+ => )?(.+?) \.\.\. (ok|FAILED|ignored|cancelled)(?: \([^)]*\))*$/;
const UNCAUGHT = /^Uncaught error from \S+ FAILED$/;
const RUNNING = /'(.+)' has been running for over/;
const SUMMARY = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/;

/**
 * Reads `deno test` output chunk by chunk, each complete line once. A result line whose name
 * holds " ... " is a step (`parent ... step ... ok`) and is not counted, as deno's own
 * summary does not.
 */
export class TestOutputReader {
  /** What was reported so far. */
  readonly output: TestOutput = { passed: 0, failed: 0, running: [] };
  readonly #running = new Set<string>();
  #partial = "";

  /** Adds the next piece of output; a line is read once it is complete. */
  add(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) this.#read(line.replace(ANSI, ""));
    this.output.running = [...this.#running];
  }

  #read(line: string): void {
    const output = this.output;
    const summary = line.match(SUMMARY);
    if (summary) {
      output.summary = { passed: Number(summary[1]), failed: Number(summary[2]) };
      return;
    }
    const stuck = line.match(RUNNING);
    if (stuck) {
      this.#running.add(stuck[1]);
      return;
    }
    if (UNCAUGHT.test(line)) {
      output.failed++;
      return;
    }
    const result = line.match(RESULT);
    if (!result || result[1].includes(" ... ")) return;
    this.#running.delete(result[1]);
    if (result[2] === "ok") output.passed++;
    else if (result[2] !== "ignored") output.failed++;
  }
}

/** Reads the complete lines of a whole `deno test` output at once. */
export function parseTestOutput(text: string): TestOutput {
  const reader = new TestOutputReader();
  reader.add(text);
  return reader.output;
}

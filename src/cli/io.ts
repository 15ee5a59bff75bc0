/**
 * The terminal seen by commands: output streams, whether each is a terminal, colour, and
 * the environment. Commands write through an `Io` so they can be tested without a terminal.
 */

import { PLAIN, type TextStyle } from "../core/text_style.ts";

/** ANSI styles used by the CLI. */
export type Palette = TextStyle;

/** What a command may use of the process it runs in. */
export interface Io {
  /** Writes data to stdout, as is. */
  out(text: string): void;
  /** Writes a message to stderr, as is. */
  err(text: string): void;
  readonly stdoutIsTerminal: boolean;
  readonly stderrIsTerminal: boolean;
  readonly stdinIsTerminal: boolean;
  /** Styles for stdout (no-ops unless stdout is a colour terminal). */
  readonly outStyle: Palette;
  /** Styles for stderr (no-ops unless stderr is a colour terminal). */
  readonly errStyle: Palette;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Asks a question on the terminal and returns the answer, or null at end of input. */
  ask(question: string): Promise<string | null>;
}

function ansi(open: number, close: number) {
  return (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const COLOURS: Palette = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
};

/** The styles to use: colours only on a terminal and without NO_COLOR or --no-color. */
export function paletteFor(terminal: boolean, noColor: boolean): Palette {
  return terminal && !noColor ? COLOURS : PLAIN;
}

const encoder = new TextEncoder();

function writeAllSync(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += stream.writeSync(bytes.subarray(written));
    } catch (error) {
      // A closed pipe (`cloudsignal acl get | head`) is the reader's choice, not our failure.
      if (error instanceof Deno.errors.BrokenPipe) return;
      throw error;
    }
  }
}

async function readLine(): Promise<string | null> {
  const buffer = new Uint8Array(1);
  const bytes: number[] = [];
  for (;;) {
    const read = await Deno.stdin.read(buffer);
    if (read === null) {
      return bytes.length > 0 ? new TextDecoder().decode(new Uint8Array(bytes)) : null;
    }
    if (buffer[0] === 0x0a) break;
    bytes.push(buffer[0]);
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}

/** The real process's streams and environment. */
export function processIo(options: { noColor?: boolean } = {}): Io {
  const noColor = options.noColor === true || (Deno.env.get("NO_COLOR") ?? "") !== "";
  const stdoutIsTerminal = Deno.stdout.isTerminal();
  const stderrIsTerminal = Deno.stderr.isTerminal();
  return {
    out: (text) => writeAllSync(Deno.stdout, text),
    err: (text) => writeAllSync(Deno.stderr, text),
    stdoutIsTerminal,
    stderrIsTerminal,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    outStyle: paletteFor(stdoutIsTerminal, noColor),
    errStyle: paletteFor(stderrIsTerminal, noColor),
    env: (name) => Deno.env.get(name),
    ask: async (question) => {
      writeAllSync(Deno.stderr, question);
      return await readLine();
    },
  };
}

/** An `Io` that records output, for tests. */
export interface RecordingIo extends Io {
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `recordingIo`. */
export interface RecordingIoOptions {
  terminal?: boolean;
  env?: Record<string, string>;
  answers?: string[];
}

/** An `Io` that keeps what is written and answers questions from a list. */
export function recordingIo(options: RecordingIoOptions = {}): RecordingIo {
  let stdout = "";
  let stderr = "";
  const answers = [...(options.answers ?? [])];
  const terminal = options.terminal ?? false;
  return {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    stdoutIsTerminal: terminal,
    stderrIsTerminal: terminal,
    stdinIsTerminal: terminal,
    outStyle: PLAIN,
    errStyle: PLAIN,
    env: (name) => options.env?.[name],
    ask: (question) => {
      stderr += question;
      return Promise.resolve(answers.shift() ?? null);
    },
  };
}

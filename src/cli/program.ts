/**
 * The root command, the global options, and the runner that turns every failure into a
 * message and an exit code.
 */

import { Command, CommanderError, type CommandUnknownOpts, Option } from "./vendor/commander.js";
import { type Io, processIo } from "./io.ts";
import { OperationError } from "../core/errors.ts";
import {
  debugFromEnv,
  DEFAULT_API_URL,
  homeFromEnv,
  type OperationContext,
} from "../core/context.ts";
import { EXIT_CODE_HELP, EXIT_ERROR, EXIT_OK, EXIT_USAGE, exitCodeOf } from "./exit_codes.ts";
import { withProgress } from "./progress.ts";
import { versionText } from "../version.ts";

export { DEFAULT_API_URL };

/** What every command gets: the operations' context plus the terminal. */
export interface CliContext extends OperationContext {
  io: Io;
}

/** Builds the root command with the global options. */
export function createProgram() {
  return new Command("cloudsignal")
    .description(
      "The CloudSignal command line: log in, keep ACL policies as files, simulate and test them with the broker's own evaluator, and manage identity claims.",
    )
    .version(versionText(), "-V, --version", "print the version and commit")
    .addOption(
      new Option(
        "--api-url <url>",
        `API base URL (default: the current session's, else ${DEFAULT_API_URL})`,
      ).env("CLOUDSIGNAL_API_URL"),
    )
    .option("--debug", "log each HTTP request (method, URL, status, time; credentials redacted)")
    .option("--no-color", "disable colour (also NO_COLOR)")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      `\n${EXIT_CODE_HELP}\n\nEnvironment: CLOUDSIGNAL_API_URL, CLOUDSIGNAL_TOKEN, CLOUDSIGNAL_HOME,\nCLOUDSIGNAL_CLIENT_ID, CLOUDSIGNAL_SCOPE, CLOUDSIGNAL_TIMEOUT (seconds), CLOUDSIGNAL_DEBUG=1, NO_COLOR.`,
    );
}

/** The root command type. */
export type Program = ReturnType<typeof createProgram>;

interface GlobalOptionValues {
  apiUrl?: string;
  debug?: boolean;
  color?: boolean;
}

function homeDirectory(io: Io): string {
  const home = homeFromEnv((name) => io.env(name));
  if (home === null) {
    throw new OperationError("cannot find your home directory", "set HOME or CLOUDSIGNAL_HOME");
  }
  return home;
}

/** Finds the API URL to use when neither flag nor environment names one; null: the default. */
export type ApiUrlResolver = (
  home: string,
  env: (name: string) => string | undefined,
) => string | null;

let defaultApiUrl: ApiUrlResolver = () => null;

/** Sets how the API URL is chosen without `--api-url` (src/commands/auth.ts: the current session's). */
export function resolveApiUrlWith(resolver: ApiUrlResolver): void {
  defaultApiUrl = resolver;
}

/**
 * The operation context of a terminal: diagnostics dimmed on stderr, a spinner for slow steps.
 * Without an API URL, the resolver set by `resolveApiUrlWith` chooses one the first time it
 * is read (so offline commands never look).
 */
export function cliContext(
  io: Io,
  options: { apiUrl?: string; debug?: boolean; signal?: AbortSignal; home?: string },
): CliContext {
  const home = options.home ?? homeDirectory(io);
  const env = (name: string) => io.env(name);
  let apiUrl = options.apiUrl?.replace(/\/+$/, "");
  return {
    io,
    get apiUrl() {
      return apiUrl ??= (defaultApiUrl(home, env) ?? DEFAULT_API_URL).replace(/\/+$/, "");
    },
    apiUrlExplicit: options.apiUrl !== undefined,
    debug: options.debug === true || debugFromEnv(io.env("CLOUDSIGNAL_DEBUG")),
    home,
    env,
    log: (line) => io.err(`${io.errStyle.dim(line)}\n`),
    progress: (label, work) => withProgress(io, label, work),
    signal: options.signal,
  };
}

/** The context for a command, from its own and its ancestors' options. */
export function contextOf(command: { optsWithGlobals(): object }): CliContext {
  const options = command.optsWithGlobals() as GlobalOptionValues;
  const io = processIo({ noColor: options.color === false });
  return cliContext(io, { apiUrl: options.apiUrl, debug: options.debug });
}

let exitCode = EXIT_OK;

/** Wraps a command action so the exit code it returns becomes the process's. */
export function act<A extends unknown[]>(
  action: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    exitCode = (await action(...args)) ?? EXIT_OK;
  };
}

/** Prints `Error: <message>` and the hint. */
export function printError(io: Io, error: OperationError): void {
  io.err(`${io.errStyle.red("Error:")} ${error.message}\n`);
  if (error.hint) io.err(`${error.hint}\n`);
}

/**
 * Parses `args`, runs the chosen command, and exits: with its code, 2 for usage errors, the
 * error's own code for a `OperationError`, and 1 for anything unexpected (stack only with --debug).
 */
export async function runProgram(program: Program, args: string[]): Promise<never> {
  const io = processIo({ noColor: args.includes("--no-color") });
  const configure = (command: CommandUnknownOpts) => {
    command.exitOverride();
    command.configureOutput({
      outputError: (text, write) => write(text.replace(/^error: /, "Error: ")),
    });
    command.showHelpAfterError(`(run \`${commandPath(command)} --help\` for usage)`);
    for (const sub of command.commands) configure(sub as CommandUnknownOpts);
  };
  configure(program as unknown as CommandUnknownOpts);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    Deno.exit(exitCodeFor(error, io, args));
  }
  Deno.exit(exitCode);
}

function commandPath(command: { name(): string; parent: unknown }): string {
  const names: string[] = [];
  let at: { name(): string; parent: unknown } | null = command;
  while (at) {
    names.unshift(at.name());
    at = at.parent as typeof at;
  }
  return names.join(" ");
}

function exitCodeFor(error: unknown, io: Io, args: string[]): number {
  if (error instanceof CommanderError) {
    const done = ["commander.helpDisplayed", "commander.version", "commander.help"];
    if (done.includes(error.code)) return EXIT_OK;
    if (error.code === "commander.executeSubCommandAsync") return EXIT_ERROR;
    return EXIT_USAGE;
  }
  if (error instanceof OperationError) {
    printError(io, error);
    return exitCodeOf(error.code);
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`${io.errStyle.red("Error:")} unexpected failure: ${message}\n`);
  if (args.includes("--debug") || Deno.env.get("CLOUDSIGNAL_DEBUG") === "1") {
    io.err(`${error instanceof Error ? error.stack : ""}\n`);
  } else {
    io.err("Run again with --debug for details, and report it if it persists.\n");
  }
  return EXIT_ERROR;
}

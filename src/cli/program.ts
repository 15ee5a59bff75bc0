/**
 * The root command, the global options, and the runner that turns every failure into a
 * message and an exit code.
 */

import {
  Command,
  CommanderError,
  type CommandUnknownOpts,
  Option,
  type ParseOptionsResult,
} from "./vendor/commander.js";
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
import { HELP_CONFIGURATION } from "./help_format.ts";
import { examplesText } from "./examples.ts";

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
      new Option("--api-url <url>", "API base URL")
        .default(undefined, `the current session's, else ${DEFAULT_API_URL}`)
        .env("CLOUDSIGNAL_API_URL"),
    )
    .option("--debug", "log each HTTP request (method, URL, status, time; credentials redacted)")
    .option("--no-color", "disable colour (also NO_COLOR)")
    .helpOption("-h, --help", "show help")
    .configureHelp(HELP_CONFIGURATION)
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      examplesText([
        ["Log in, fetch the policy, edit it, push it", "cloudsignal login"],
        ["", "cloudsignal acl get -o policy.json"],
        ["", "cloudsignal acl update policy.json"],
        [
          "Decide a publish offline, with the broker's evaluator",
          "cloudsignal acl simulate --policy policy.json --username scout --action pub --topic agents/scout/card",
        ],
        ["The help of a command", "cloudsignal help acl simulate"],
      ]),
    )
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
    // On a terminal a spinner may be drawn on the current line: clear it first.
    log: (line) => io.err(`${io.stderrIsTerminal ? "\r\u001b[2K" : ""}${io.errStyle.dim(line)}\n`),
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

/** The parts of commander's Command that `finishProgram` hooks into (not in its typings). */
interface CommandInternals {
  unknownOption(flag: string): never;
  missingMandatoryOptionValue(option: Option): never;
}

/**
 * Reports an unknown option (with commander's "Did you mean …?") before a missing required
 * one, so `--topc x` is answered with "did you mean --topic?" rather than "--topic not
 * specified". Commander checks the required options first.
 */
function reportUnknownOptionsFirst(command: CommandUnknownOpts): void {
  let unknown: string[] = [];
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (argv: string[]): ParseOptionsResult => {
    const parsed = parseOptions(argv);
    unknown = parsed.unknown;
    return parsed;
  };
  const internals = command as unknown as CommandInternals;
  const missing = internals.missingMandatoryOptionValue.bind(command);
  internals.missingMandatoryOptionValue = (option: Option) => {
    if (unknown.length > 0) internals.unknownOption(unknown[0]);
    return missing(option);
  };
}

/**
 * A real `help [command...]` under each group, so `cloudsignal help acl simulate` shows the
 * help of `acl simulate` (commander's own help command only looks one level down).
 */
function addHelpCommand(group: CommandUnknownOpts): void {
  const path = commandPath(group);
  const visible = (commands: readonly CommandUnknownOpts[]) =>
    commands.filter((command) => !(command as { _hidden?: boolean })._hidden);
  const first = visible(group.commands).find((command) => command.commands.length > 0) ??
    visible(group.commands)[0];
  const example = [first, visible(first?.commands ?? [])[0]].filter(Boolean)
    .map((command) => command!.name()).join(" ");
  group
    .command("help")
    .description("Show the help of a command (the same as <command> --help).")
    .argument("[command...]", "the command, with its subcommands")
    .addHelpText("after", examplesText([[`The help of ${example}`, `${path} help ${example}`]]))
    .action(async (names: string[]) => {
      let target = group;
      for (const [at, name] of names.entries()) {
        const next = target.commands.find((sub) =>
          sub.name() === name || sub.aliases().includes(name)
        );
        if (next) {
          target = next as CommandUnknownOpts;
          continue;
        }
        // Commander reports an unknown subcommand with its "Did you mean …?".
        if (target.commands.length > 0) await target.parseAsync(names.slice(at), { from: "user" });
        target.error(`error: \`${commandPath(target)}\` has no subcommand '${name}'`, {
          code: "commander.unknownCommand",
          exitCode: EXIT_USAGE,
        });
      }
      target.outputHelp();
    });
}

/**
 * Finishes the command tree once every command is registered: errors go through the runner,
 * each group gets a `help` command, and unknown options are reported before missing ones.
 */
export function finishProgram(program: Program): void {
  const configure = (command: CommandUnknownOpts) => {
    if (command.commands.length > 0 && !command.commands.some((sub) => sub.name() === "help")) {
      addHelpCommand(command);
    }
    command.exitOverride();
    command.configureOutput({
      outputError: (text, write) => write(text.replace(/^error: /, "Error: ")),
    });
    command.showHelpAfterError(`(run \`${commandPath(command)} --help\` for usage)`);
    reportUnknownOptionsFirst(command);
    for (const sub of command.commands) configure(sub as CommandUnknownOpts);
  };
  configure(program as unknown as CommandUnknownOpts);
}

/**
 * Parses `args`, runs the chosen command, and exits: with its code, 2 for usage errors, the
 * error's own code for a `OperationError`, and 1 for anything unexpected (stack only with --debug).
 */
export async function runProgram(program: Program, args: string[]): Promise<never> {
  const io = processIo({ noColor: args.includes("--no-color") });
  finishProgram(program);
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

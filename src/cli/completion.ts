/**
 * Shell completion from the live command tree: the scripts and the `complete -- <words>`
 * protocol are tab's (@bomb.sh/tab); the tree is read from commander here instead of with
 * tab's commander adapter, which adds commands of its own (they clash with
 * `cloudsignal completions`), skips aliases and never lets the shell complete file names.
 * Loaded only by `cloudsignal completions` and `cloudsignal complete`.
 */

import {
  type Command as TabCommand,
  RootCommand,
  ShellCompDirective,
} from "npm:@bomb.sh/tab@0.0.22";
import type { CommandUnknownOpts } from "./vendor/commander.js";

/** The shells `cloudsignal completions` writes scripts for. */
export type Shell = "bash" | "zsh" | "fish" | "powershell";

/** A value placeholder (`<file>`, `[dir]`, `<path...>`) whose value is a path on disk. */
const PATH_VALUE = /^(?:[\w-]*(?:file|dir|path)s?)$/i;

interface OptionLike {
  flags: string;
  long?: string;
  short?: string;
  description: string;
  required: boolean;
  optional: boolean;
  argChoices?: string[];
}

interface ArgumentLike {
  name(): string;
  variadic: boolean;
  argChoices?: string[];
}

/** What a completion request found, besides the candidates tab prints. */
interface RequestState {
  /** The word being completed is a path: let the shell complete file names. */
  paths: boolean;
}

function placeholder(flags: string): string | undefined {
  return flags.match(/[<[]([^>\]]+?)(?:\.\.\.)?[>\]]/)?.[1];
}

function shortSummary(text: string): string {
  const sentence = text.match(/^(.*?[.!?])(?:\s|$)/)?.[1] ?? text;
  return sentence.replace(/[.]$/, "");
}

function addOptions(node: TabCommand, options: OptionLike[], state: RequestState): void {
  for (const option of options) {
    const name = option.long?.replace(/^--/, "");
    if (!name) continue;
    const alias = option.short?.replace(/^-/, "");
    const description = shortSummary(option.description);
    if (!option.required && !option.optional) {
      node.option(name, description, alias);
      continue;
    }
    const choices = option.argChoices ?? [];
    const value = placeholder(option.flags) ?? "";
    node.option(
      name,
      description,
      (complete) => {
        for (const choice of choices) complete(choice, "");
        if (choices.length === 0 && PATH_VALUE.test(value)) state.paths = true;
      },
      alias,
    );
  }
}

function addArguments(node: TabCommand, args: readonly ArgumentLike[], state: RequestState): void {
  for (const argument of args) {
    const choices = argument.argChoices ?? [];
    const handler = choices.length > 0
      ? (complete: (value: string, description: string) => void) => {
        for (const choice of choices) complete(choice, "");
      }
      : PATH_VALUE.test(argument.name())
      ? () => {
        state.paths = true;
      }
      : undefined;
    node.argument(argument.name(), handler, argument.variadic);
  }
}

function visibleOptions(command: CommandUnknownOpts): OptionLike[] {
  return command.createHelp().visibleOptions(command) as unknown as OptionLike[];
}

/** The completion tree of `program`: every visible command and alias, option and argument. */
function completionTree(program: CommandUnknownOpts, state: RequestState): RootCommand {
  const tree = new RootCommand();
  const rootOptions = visibleOptions(program);
  addOptions(tree, rootOptions, state);
  addArguments(tree, program.registeredArguments as readonly ArgumentLike[], state);
  // Root options (--api-url, --debug, --no-color) are accepted after any subcommand too.
  const globals = rootOptions.filter((option) => !["--help", "--version"].includes(option.long!));
  const walk = (command: CommandUnknownOpts, path: string) => {
    for (const sub of command.createHelp().visibleCommands(command) as CommandUnknownOpts[]) {
      const names = [sub.name(), ...sub.aliases()];
      for (const name of names) {
        const key = path ? `${path} ${name}` : name;
        const description = name === sub.name()
          ? shortSummary(sub.summary() || sub.description())
          : `alias of ${sub.name()}`;
        const node = tree.command(key, description);
        const own = visibleOptions(sub);
        const owned = new Set(own.map((option) => option.long));
        addOptions(node, [...own, ...globals.filter((g) => !owned.has(g.long))], state);
        addArguments(node, sub.registeredArguments as readonly ArgumentLike[], state);
        walk(sub, key);
      }
    }
  };
  walk(program, "");
  return tree;
}

/** Runs `run` and returns what it printed with console.log (tab prints its results there). */
function captureConsole(run: () => void): string[] {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...data: unknown[]) => {
    lines.push(data.map(String).join(" "));
  };
  try {
    run();
  } finally {
    console.log = original;
  }
  return lines;
}

/**
 * Answers a completion request: `words` is the command line after the program name, the
 * last one the word being completed (empty after a space). Returns tab's protocol: one
 * `value<TAB>description` line per candidate, then `:<directive>`; the directive lets the
 * shell complete file names where the command expects a path.
 */
export function completeWords(program: CommandUnknownOpts, words: string[]): string {
  const state: RequestState = { paths: false };
  const tree = completionTree(program, state);
  const lines = captureConsole(() => tree.parse([...words]));
  const directive = lines.pop() ?? `:${ShellCompDirective.ShellCompDirectiveNoFileComp}`;
  const code = state.paths
    ? ShellCompDirective.ShellCompDirectiveDefault
    : Number(directive.slice(1));
  return [...lines, `:${code}`].join("\n") + "\n";
}

/**
 * tab's bash script needs `_get_comp_words_by_ref` from the bash-completion package, makes
 * its constants readonly (sourcing it twice fails) and never falls back to file names. These
 * edits make it work in a plain bash and complete paths where `complete` asks for it.
 */
function patchBash(script: string, name: string): string {
  const edits: [string, string][] = [
    [
      '    _get_comp_words_by_ref -n "=:" cur prev words cword\n',
      [
        "    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then",
        '        _get_comp_words_by_ref -n "=:" cur prev words cword',
        "    else",
        "        # No bash-completion package: split the line up to the cursor on blanks.",
        '        local line="${COMP_LINE:0:COMP_POINT}"',
        '        read -r -a words <<< "$line"',
        '        cur=""',
        '        [[ "$line" == *[[:blank:]] ]] || cur="${words[${#words[@]}-1]}"',
        "    fi",
        "",
      ].join("\n"),
    ],
    [`complete -F __${name}_complete ${name}`, `complete -o default -F __${name}_complete ${name}`],
  ];
  let patched = script.replaceAll(/^readonly (ShellCompDirective\w+=)/gm, "$1");
  for (const [from, to] of edits) {
    if (!patched.includes(from)) throw new Error(`tab's bash script changed: cannot find ${from}`);
    patched = patched.replace(from, to);
  }
  return patched;
}

/** The completion script for `shell`; it calls `<name> complete -- <words>` on each TAB. */
export function completionScript(shell: Shell, name = "cloudsignal"): string {
  const lines = captureConsole(() => new RootCommand().setup(name, name, shell));
  const script = lines.join("\n") + "\n";
  return shell === "bash" ? patchBash(script, name) : script;
}

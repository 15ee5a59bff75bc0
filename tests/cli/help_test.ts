/**
 * The help of every command, walked over the whole tree: an Examples section whose command
 * lines parse, required options marked, defaults as a reader expects them, the global options
 * listed; `cloudsignal help <path>` and "did you mean" for mistyped required options.
 */

import assert from "node:assert/strict";
import type { CommandUnknownOpts } from "../../src/cli/vendor/commander.js";
import { EXAMPLES_HEADING } from "../../src/cli/examples.ts";
import { runCli } from "../support/cli.ts";
import { commandTree, helpText, pathOf, visibleCommands } from "./command_tree.ts";

/** The `$ cloudsignal …` lines of a help text. */
function exampleLines(help: string): string[] {
  const section = help.split(`\n${EXAMPLES_HEADING}\n`)[1] ?? "";
  return section.split("\n").filter((line) => line.startsWith("  $ ")).map((line) => line.slice(4));
}

/** A command line's words up to the first pipe, redirection or list operator (shell quoting). */
function words(line: string): string[] {
  const out: string[] = [];
  const pattern = /'([^']*)'|"((?:\\.|[^"\\])*)"|(\|\||&&|[|;<>]+|#.*)|(\S+)/g;
  for (const match of line.matchAll(pattern)) {
    if (match[3] !== undefined) break;
    out.push(match[1] ?? match[2]?.replace(/\\(.)/g, "$1") ?? match[4]);
  }
  while (out.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(out[0])) out.shift();
  return out;
}

const tree = await commandTree();
const commands = visibleCommands(tree);
const leaves = commands.filter((command) => command.commands.length === 0);

Deno.test("the tree walked here is the one main.ts runs", async () => {
  const result = await runCli(["--help"]);
  assert.equal(result.code, 0, result.stderr);
  const listed = (result.stdout.split(/^Commands:\n/m)[1] ?? "").split("\n\n")[0].split("\n")
    .filter((line) => /^ {2}\S/.test(line)).map((line) => line.trim().split(/[ |]/)[0]);
  assert.deepEqual(
    listed.sort(),
    visibleCommands(tree).filter((command) => command.parent === tree)
      .map((command) => command.name()).sort(),
  );
  assert.ok(leaves.length >= 15, `${leaves.length} leaf commands`);
});

Deno.test("every command's help has an Examples section with a line for that command", () => {
  const missing: string[] = [];
  for (const command of leaves) {
    const path = pathOf(command);
    const names = [command.name(), ...command.aliases()];
    const own = exampleLines(helpText(command)).filter((line) =>
      names.some((name) => `${line} `.startsWith(`${pathOf(command.parent!)} ${name} `))
    );
    if (own.length === 0) missing.push(path);
  }
  assert.deepEqual(missing, [], "commands without an example of themselves");
});

Deno.test("every group's help has examples too (acl, user, user claims, auth)", () => {
  const groups = commands.filter((command) => command.commands.length > 0 && command !== tree);
  assert.ok(groups.length >= 4, `${groups.length} groups`);
  const missing = groups.filter((group) => exampleLines(helpText(group)).length === 0)
    .map(pathOf);
  assert.deepEqual(missing, [], "groups without examples");
});

Deno.test("every example line parses: known command, known options, required ones present", async () => {
  const parser = await commandTree();
  let reached: CommandUnknownOpts | null = null;
  for (const command of visibleCommands(parser)) {
    command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    const internals = command as unknown as { _actionHandler: unknown };
    if (internals._actionHandler) {
      command.action(() => {
        reached = command;
      });
    }
  }
  let checked = 0;
  for (const command of commands) {
    for (const line of exampleLines(helpText(command))) {
      const argv = words(line);
      assert.equal(argv[0], "cloudsignal", `${pathOf(command)}: ${line}`);
      reached = null;
      try {
        await parser.parseAsync(argv.slice(1), { from: "user" });
      } catch (error) {
        assert.fail(`${pathOf(command)}: \`${line}\` does not parse: ${error}`);
      }
      assert.ok(reached, `${pathOf(command)}: \`${line}\` runs no command`);
      checked++;
    }
  }
  assert.ok(checked >= leaves.length, `${checked} examples`);
});

Deno.test("required options are marked, defaults read as values, global options are listed", () => {
  for (const command of commands) {
    const path = pathOf(command);
    const help = helpText(command);
    const options = help.split(/^Options:\n/m)[1]?.split("\n\n")[0] ?? "";
    const entries = options.split(/\n(?= {2}-)/);
    for (const option of command.options.filter((option) => option.mandatory)) {
      const entry = entries.find((text) => text.trimStart().startsWith(option.flags));
      assert.ok(entry, `${path}: ${option.flags} is not in its help`);
      assert.match(entry.replace(/\s+/g, " "), /\(required\b/, `${path}: ${option.flags}`);
    }
    assert.doesNotMatch(help, /\(default: "-?\d+(\.\d+)?"/, `${path}: a number in quotes`);
    assert.doesNotMatch(help, /default: \[\]/, `${path}: an empty list as a default`);
    if (command === tree) continue;
    const globals = help.split(/^Global Options:\n/m)[1]?.split("\n\n")[0] ?? "";
    for (const flag of ["--api-url <url>", "--debug", "--no-color"]) {
      assert.match(globals, new RegExp(`^ {2}${flag}`, "m"), `${path}: ${flag}`);
    }
    assert.doesNotMatch(globals, /--version/, `${path}: --version only applies to the root`);
  }
});

Deno.test("`help <command> <subcommand>` shows the subcommand's help; a typo is a usage error", async () => {
  const help = await runCli(["help", "acl", "simulate"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: cloudsignal acl simulate --topic <topic> --action <action>/);
  assert.match(help.stdout, /\n {2}\$ cloudsignal acl simulate /);
  const nested = await runCli(["user", "help", "claims", "set"]);
  assert.equal(nested.code, 0, nested.stderr);
  assert.match(nested.stdout, /^Usage: cloudsignal user claims set /);
  const typo = await runCli(["help", "acl", "simulat"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command 'simulat'\n\(Did you mean simulate\?\)/);
  assert.equal(typo.stdout, "");
  const tooDeep = await runCli(["help", "acl", "simulate", "now"]);
  assert.equal(tooDeep.code, 2);
  assert.match(tooDeep.stderr, /`cloudsignal acl simulate` has no subcommand 'now'/);
});

Deno.test("a mistyped required option gets the suggestion unknown options get", async () => {
  const cases: [string[], string][] = [
    [["acl", "simulate", "--topc", "x", "--action", "pub"], "--topic"],
    [["acl", "simulate", "--topic", "x", "--acton", "pub"], "--action"],
    [["user", "claims", "set", "scout", "--ky", "k", "--value", "v"], "--key"],
    [["acl", "init", "--prest", "blank"], "--preset"],
  ];
  for (const [args, flag] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, new RegExp(`\\(Did you mean ${flag}\\?\\)`), args.join(" "));
    assert.doesNotMatch(result.stderr, /not specified/, args.join(" "));
  }
  const missing = await runCli(["acl", "simulate", "--action", "pub"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--topic <topic>' not specified/);
});

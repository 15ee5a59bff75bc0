/**
 * The CLI's command tree built in process, as main.ts builds it: the root of
 * src/cli/program.ts and every `register…` function of src/commands/*.ts, so commands other
 * engineers add are walked too.
 */

import type { CommandUnknownOpts } from "../../src/cli/vendor/commander.js";
import { createProgram, finishProgram, type Program } from "../../src/cli/program.ts";

const COMMANDS = new URL("../../src/commands/", import.meta.url);

/** A fresh command tree with every command registered and finished. */
export async function commandTree(): Promise<CommandUnknownOpts> {
  const program = createProgram();
  const files = [...Deno.readDirSync(COMMANDS)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".ts"))
    .map((entry) => entry.name)
    .sort();
  for (const file of files) {
    const module = await import(new URL(file, COMMANDS).href) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (name.startsWith("register") && typeof value === "function") {
        (value as (program: Program) => void)(program);
      }
    }
  }
  finishProgram(program);
  return program as unknown as CommandUnknownOpts;
}

/** `cloudsignal acl simulate` for the command `simulate` under `acl`. */
export function pathOf(command: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let at: CommandUnknownOpts | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

/** Every command a user can see (not the hidden `complete`), the root first. */
export function visibleCommands(root: CommandUnknownOpts): CommandUnknownOpts[] {
  const all: CommandUnknownOpts[] = [];
  const walk = (command: CommandUnknownOpts) => {
    all.push(command);
    for (const sub of command.commands) {
      if (!(sub as { _hidden?: boolean })._hidden) walk(sub as CommandUnknownOpts);
    }
  };
  walk(root);
  return all;
}

/** The text `<command> --help` prints, with the sections added after the options. */
export function helpText(command: CommandUnknownOpts): string {
  let text = "";
  command.configureOutput({ writeOut: (chunk) => (text += chunk), getOutHelpWidth: () => 80 });
  command.outputHelp();
  return text;
}

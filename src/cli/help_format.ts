/**
 * How `--help` describes options: required ones marked, numbers unquoted, no empty list
 * defaults, and the global options listed under every subcommand (docs/decisions.md, "Help").
 */

import type { CommandUnknownOpts, Help, HelpConfiguration, Option } from "./vendor/commander.js";

function defaultText(option: Option): string | undefined {
  if (option.defaultValueDescription) return option.defaultValueDescription;
  const value: unknown = option.defaultValue;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  if (option.isBoolean() && typeof value !== "boolean") return undefined;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return value;
  return JSON.stringify(value);
}

/** An option's description with what it needs: `(required, choices: …, default: 8780, env: …)`. */
export function optionDescription(option: Option): string {
  const notes: string[] = [];
  if (option.mandatory) notes.push("required");
  if (option.argChoices) {
    notes.push(`choices: ${option.argChoices.map((choice) => JSON.stringify(choice)).join(", ")}`);
  }
  const fallback = defaultText(option);
  if (fallback !== undefined) notes.push(`default: ${fallback}`);
  if (option.envVar !== undefined) notes.push(`env: ${option.envVar}`);
  if (notes.length === 0) return option.description;
  return option.description
    ? `${option.description} (${notes.join(", ")})`
    : `(${notes.join(", ")})`;
}

/** The root's options a subcommand also takes (`--api-url`, `--debug`, `--no-color`). */
function visibleGlobalOptions(this: Help, command: CommandUnknownOpts): Option[] {
  const options: Option[] = [];
  for (let at = command.parent; at; at = at.parent) {
    options.push(...at.options.filter((option) => !option.hidden && option.long !== "--version"));
  }
  return options;
}

/** `Usage: cloudsignal acl simulate --topic <topic> --action <action> [options]`. */
function commandUsage(this: Help, command: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let at = command.parent; at; at = at.parent) names.unshift(at.name());
  const name = [command.name(), ...command.aliases().slice(0, 1)].join("|");
  const required = command.options.filter((option) => option.mandatory)
    .map((option) => option.flags.replace(/^-\w, /, ""));
  return [...names, name, ...required, command.usage()].join(" ");
}

/** The help configuration of the root command; subcommands inherit it. */
export const HELP_CONFIGURATION: HelpConfiguration = {
  showGlobalOptions: true,
  optionDescription,
  visibleGlobalOptions,
  commandUsage,
};

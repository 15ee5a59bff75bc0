/**
 * JSON output of every command, by one rule: formatted on a terminal, compact (one line)
 * when stdout is a pipe or a file, so people can read it and scripts get one line per
 * result. `acl get --pretty` / `--compact` force either for the policy.
 */

import type { Io } from "./io.ts";
import { jsonText } from "../core/json_text.ts";

/** Whether JSON goes out formatted: on a terminal, unless forced. */
export function prettyJson(io: Io, force?: { pretty?: boolean; compact?: boolean }): boolean {
  if (force?.pretty) return true;
  if (force?.compact) return false;
  return io.stdoutIsTerminal;
}

/** Prints `value` as JSON on stdout by the one rule. */
export function printJson(io: Io, value: unknown): void {
  io.out(jsonText(value, prettyJson(io)));
}

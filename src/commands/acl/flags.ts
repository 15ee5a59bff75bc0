/** Parsing the acl commands' flags into operation input. */

import { UsageError } from "../../core/errors.ts";

/** A `--revision`-like flag: a whole number, or undefined when absent. */
export function parseRevisionFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${flag} must be a revision number (got ${JSON.stringify(text)})`);
  }
  return Number(text);
}

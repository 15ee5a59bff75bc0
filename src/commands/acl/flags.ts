/** Parsing the acl commands' flags into operation input. */

import { UsageError } from "../../core/errors.ts";

/** A `--revision`-like flag: a whole number from 1 (revisions start at 1), or undefined. */
export function parseRevisionFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1) {
    throw new UsageError(
      `${flag} must be a revision number: 1 or more (got ${JSON.stringify(text)})`,
      "List them with: cloudsignal acl revisions",
    );
  }
  return Number(text);
}

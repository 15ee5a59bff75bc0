/**
 * Checks that findings about a policy are located: each has a code, a JSON pointer that
 * resolves in the document, and a line and column where the text holds that value (or its
 * key). Used by the validator, CLI and API tests over generated mutations.
 */

import { pointersRelated } from "./policy_mutations.ts";

/** The fields of a finding these checks read (the validator's and the API's shape). */
export interface LocatedFinding {
  severity: string;
  code: string;
  path: string;
  pointer: string;
  message: string;
  line?: number;
  column?: number;
}

function resolves(document: unknown, pointer: string): boolean {
  if (pointer === "") return true;
  let value: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, token)) return false;
    value = (value as Record<string, unknown>)[token];
  }
  return true;
}

/** What may start at a finding's place: a value, or the quoted key of a member. */
const VALUE_START = /^[{["0-9tfn-]/;

/**
 * Throws unless every finding is located in `text` (the JSON that was validated, whose
 * parsed form is `document`) and, when `mutated` is given, some error is about that pointer
 * (the changed value, something inside it, or the object that holds it).
 */
export function assertLocatedFindings(
  label: string,
  text: string,
  document: unknown,
  findings: LocatedFinding[],
  mutated?: string,
): void {
  const fail = (why: string, finding?: LocatedFinding): never => {
    throw new Error(
      `${label}: ${why}${finding ? `\n  finding: ${JSON.stringify(finding)}` : ""}`,
    );
  };
  const errors = findings.filter((finding) => finding.severity === "error");
  if (errors.length === 0) fail("no error finding");
  const lines = text.split("\n");
  for (const finding of findings) {
    if (typeof finding.code !== "string" || finding.code === "") fail("no code", finding);
    if (typeof finding.message !== "string" || finding.message === "") {
      fail("no message", finding);
    }
    if (typeof finding.pointer !== "string" || !resolves(document, finding.pointer)) {
      fail("the pointer does not resolve in the document", finding);
    }
    const { line, column } = finding;
    if (!Number.isInteger(line) || !Number.isInteger(column)) fail("no line:column", finding);
    const lineText = lines[line! - 1];
    if (lineText === undefined || column! < 1 || column! > lineText.length) {
      fail("line:column is outside the text", finding);
    }
    if (!VALUE_START.test(lineText.slice(column! - 1))) {
      fail(`line:column points at "${lineText.slice(column! - 1, column! + 9)}"`, finding);
    }
  }
  if (mutated !== undefined && !errors.some((error) => pointersRelated(error.pointer, mutated))) {
    fail(`no error about ${mutated || "(root)"}: ${JSON.stringify(errors)}`);
  }
}

/**
 * The `Examples:` section of a command's `--help`:
 * `.addHelpText("after", examplesText([["what it does", "cloudsignal …"]]))`.
 */

/** One example: what it does (empty: continues the one above), and the command line. */
export type Example = readonly [what: string, line: string];

/** The heading every Examples section starts with. */
export const EXAMPLES_HEADING = "Examples:";

/** The section's text: each example as a `# what` line above a `$ cloudsignal …` line. */
export function examplesText(examples: readonly Example[]): string {
  const lines = examples.flatMap(([what, line]) =>
    what ? [`  # ${what}`, `  $ ${line}`] : [`  $ ${line}`]
  );
  return `\n${EXAMPLES_HEADING}\n${lines.join("\n")}`;
}

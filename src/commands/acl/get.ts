/**
 * `acl get`: the policy as JSON on stdout or in a file, formatted on a terminal, with the
 * live revision it is based on in `"$revision"` (what `acl update` checks).
 */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { prettyJson } from "../../cli/json_output.ts";
import { UsageError } from "../../core/errors.ts";
import { type OutputFileResult, writeOutputFile } from "../../core/output_file.ts";
import { jsonText } from "../../core/json_text.ts";
import { printable } from "../../core/printable.ts";
import { getPolicy } from "../../policy/read.ts";
import { withRevision } from "../../policy/file_revision.ts";
import { parseRevisionFlag } from "./flags.ts";

/** Flags of `acl get`. */
export interface GetFlags {
  revision?: string;
  pretty?: boolean;
  compact?: boolean;
  output?: string;
  force?: boolean;
  json?: boolean;
}

/** `acl get`: prints or writes the policy (and with `--json`, what was fetched). */
export async function runGet(context: CliContext, flags: GetFlags): Promise<number> {
  if (flags.pretty && flags.compact) {
    throw new UsageError("--pretty and --compact exclude each other");
  }
  const revision = parseRevisionFlag(flags.revision, "--revision");
  const { io } = context;
  const fetched = await getPolicy(context, { revision });
  const policy = withRevision(fetched.policy, fetched.base_revision);
  const toFile = flags.output !== undefined && flags.output !== "-";
  let written: OutputFileResult | undefined;
  if (toFile) {
    written = await writeOutputFile({
      path: flags.output!,
      text: jsonText(policy, !flags.compact),
      force: flags.force,
    });
  }
  if (flags.json) {
    const { organization, fetched_at, live, base_revision } = fetched;
    io.out(jsonText(
      {
        revision: fetched.revision,
        live,
        base_revision,
        fetched_at,
        organization,
        output: toFile ? flags.output : null,
        policy,
      },
      prettyJson(io, flags),
    ));
  } else if (!toFile) io.out(jsonText(policy, prettyJson(io, flags)));
  if (toFile || io.stderrIsTerminal) {
    const earlier = fetched.live
      ? ""
      : ` (an earlier revision; "$revision": ${fetched.base_revision}, the live one)`;
    const where = written === "unchanged"
      ? `${flags.output} already holds `
      : toFile
      ? `Wrote ${flags.output}: `
      : "";
    io.err(
      `${where}policy revision ${fetched.revision} of ` +
        `${printable(fetched.organization.name)}${earlier}\n`,
    );
  }
  return EXIT_OK;
}

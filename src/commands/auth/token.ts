/** `cloudsignal auth token`: the one command that prints an access token. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { getAccessToken } from "../../auth/session.ts";

/** Prints the current access token on stdout, refreshed first when it has under a minute left. */
export async function runAuthToken(context: CliContext): Promise<number> {
  const access = await getAccessToken(context);
  context.io.out(`${access.token}\n`);
  return EXIT_OK;
}

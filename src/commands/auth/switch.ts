/** `cloudsignal auth switch`: choose the current session; a numbered choice on a terminal. */

import type { CliContext } from "../../cli/program.ts";
import type { Io } from "../../cli/io.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { OperationError } from "../../core/errors.ts";
import {
  AmbiguousSessionError,
  describeSession,
  type SessionSummary,
  type SwitchResult,
  switchSession,
} from "../../auth/sessions.ts";
import { TOKEN_ENV } from "../../auth/session.ts";

/** Asks which of `candidates` to use; null when the person gives up (end of input). */
export async function chooseSession(
  io: Io,
  candidates: SessionSummary[],
): Promise<SessionSummary | null> {
  io.err(
    `Several sessions match:\n${
      candidates.map((session, index) => `  ${index + 1}) ${describeSession(session)}\n`).join("")
    }`,
  );
  for (;;) {
    const answer = await io.ask(`Which one? [1-${candidates.length}] `);
    if (answer === null) return null;
    const index = Number(answer.trim());
    if (Number.isInteger(index) && index >= 1 && index <= candidates.length) {
      return candidates[index - 1];
    }
    io.err(`Answer with a number from 1 to ${candidates.length} (Ctrl+D to give up).\n`);
  }
}

async function switchChosen(context: CliContext, org?: string): Promise<SwitchResult | null> {
  const { io } = context;
  const selector = {
    apiUrl: context.apiUrlExplicit ? context.apiUrl : undefined,
    organization: org,
  };
  try {
    return await switchSession(context, selector);
  } catch (error) {
    const interactive = io.stdinIsTerminal && io.stderrIsTerminal;
    if (!(error instanceof AmbiguousSessionError) || !interactive) throw error;
    const chosen = await chooseSession(io, error.candidates);
    if (chosen === null) return null;
    return await switchSession(context, {
      apiUrl: chosen.api_url,
      organization: chosen.organization.id,
    });
  }
}

/** Switches, then says which session is current and what could still override it. */
export async function runAuthSwitch(
  context: CliContext,
  flags: { org?: string; json?: boolean },
): Promise<number> {
  const { io } = context;
  const result = await switchChosen(context, flags.org);
  if (result === null) {
    throw new OperationError("No session chosen; the current one stays.", undefined, "cancelled");
  }
  if (flags.json) printJson(io, result);
  io.err(`Current session: ${describeSession(result.session)}.\n`);
  if (result.check.state === "unreachable") {
    io.err(
      `${
        io.errStyle.yellow("Warning:")
      } its server could not confirm the session (${result.check.detail}).\n`,
    );
  }
  if (result.env_token_set) {
    io.err(
      `${
        io.errStyle.yellow("Warning:")
      } ${TOKEN_ENV} is set; commands keep using that token until you unset it.\n`,
    );
  }
  const envApi = io.env("CLOUDSIGNAL_API_URL")?.replace(/\/+$/, "");
  if (envApi && envApi !== result.session.api_url) {
    io.err(
      `${
        io.errStyle.yellow("Warning:")
      } CLOUDSIGNAL_API_URL is set to ${envApi}; commands use that API until you unset it.\n`,
    );
  }
  return EXIT_OK;
}

/** `cloudsignal login` on a terminal: the URL, a countdown while waiting, Ctrl+C, the result. */

import type { CliContext } from "../../cli/program.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { OperationError } from "../../core/errors.ts";
import { DEFAULT_API_URL } from "../../core/context.ts";
import { formatDuration, login, type LoginOptions, type LoginUi } from "../../auth/login.ts";

/** Exit code after Ctrl+C (128 + SIGINT). */
export const EXIT_CANCELLED = 130;

function clock(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** The wait on stderr: a countdown line on a terminal, one line otherwise. */
export class TerminalLoginUi implements LoginUi {
  #timer: ReturnType<typeof setInterval> | undefined;
  #shown = false;
  #deadline = 0;

  constructor(readonly context: CliContext) {}

  showUrl(url: string, openingBrowser: boolean): void {
    const io = this.context.io;
    io.err(`To sign in, open this URL in a browser:\n\n  ${url}\n\n`);
    if (openingBrowser) io.err(`Opening it in your browser (--no-browser to skip)…\n`);
  }

  waiting(deadline: number, totalSeconds: number): void {
    const io = this.context.io;
    this.#deadline = deadline;
    if (!io.stderrIsTerminal) {
      io.err(`Waiting for the browser sign-in (times out in ${formatDuration(totalSeconds)})…\n`);
      return;
    }
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), 1_000);
  }

  #draw(): void {
    const left = (this.#deadline - Date.now()) / 1000;
    const io = this.context.io;
    io.err(
      `\r\u001b[2K${io.errStyle.cyan("…")} Waiting for the browser sign-in: ${clock(left)} left ${
        io.errStyle.dim("(Ctrl+C to cancel)")
      }`,
    );
    this.#shown = true;
  }

  warn(text: string): void {
    this.say(`${this.context.io.errStyle.yellow("Warning:")} ${text}`);
  }

  say(text: string): void {
    const io = this.context.io;
    if (this.#shown) io.err("\r\u001b[2K");
    io.err(`${text}\n`);
    if (this.#timer !== undefined) this.#draw();
  }

  stopWaiting(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#shown) this.context.io.err("\r\u001b[2K");
    this.#shown = false;
  }
}

/**
 * Runs the login with Ctrl+C cancelling it, and prints the outcome. Without `--api-url` (or
 * CLOUDSIGNAL_API_URL) it signs in to the default API, whatever session is current.
 */
export async function runLogin(
  cli: CliContext,
  options: LoginOptions & { json?: boolean },
): Promise<number> {
  const context = cli.apiUrlExplicit ? cli : { ...cli, apiUrl: DEFAULT_API_URL };
  const { io } = context;
  const cancel = new AbortController();
  const onInterrupt = () => cancel.abort(new Error("cancelled"));
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
    listening = true;
  } catch { /* signals unsupported here: Ctrl+C then ends the process as usual */ }
  try {
    const result = await login(
      { ...context, signal: cancel.signal },
      options,
      new TerminalLoginUi(context),
    );
    io.err(
      `${
        io.errStyle.green("Logged in")
      } as ${result.email} to organization ${result.organization.name} ` +
        `(${result.organization.id}) at ${result.api_url}; it is now the current session.\n` +
        `Credentials saved to ${result.credentials_file}.\n`,
    );
    if (result.scope !== null) io.err(`Scope granted: ${result.scope}\n`);
    if (!result.refreshable) {
      const ask = result.offline_access_supported &&
          !(result.requested_scope ?? "").split(" ").includes("offline_access")
        ? " (the server offers offline_access: ask for it with --scope to get one)"
        : "";
      io.err(
        `${
          io.errStyle.yellow("Note:")
        } the server issued no refresh token${ask}; this session ends when the access token expires. ` +
          `Then run \`${result.login_command}\` again.\n`,
      );
    }
    if (options.json) {
      printJson(io, {
        api_url: result.api_url,
        email: result.email,
        user_id: result.user_id,
        organization: result.organization,
        credentials_file: result.credentials_file,
        token_expires_at: result.token_expires_at,
        scope: result.scope,
        refreshable: result.refreshable,
      });
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof OperationError && error.code === "cancelled") {
      io.err(`\n${error.message}\n`);
      return EXIT_CANCELLED;
    }
    throw error;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/**
 * `cloudsignal login`: OAuth 2.0 authorization code flow with PKCE (S256) and `state`,
 * through the user's browser and a loopback callback server on 127.0.0.1 (RFC 8252).
 * The URL is printed before a browser is tried, so headless, SSH and WSL users can open it
 * elsewhere. Times out after 5 minutes (`CLOUDSIGNAL_LOGIN_TIMEOUT` seconds, for tests);
 * Ctrl+C cancels. On success the session is stored as the current one for the API URL.
 */

import { AuthError, CliError, UsageError } from "../cli/errors.ts";
import { EXIT_ERROR, EXIT_OK } from "../cli/exit_codes.ts";
import type { CliContext } from "../cli/program.ts";
import { openBrowser } from "./browser.ts";
import {
  type CallbackResult,
  type CallbackServer,
  startCallbackServer,
} from "./callback_server.ts";
import {
  credentialsLocation,
  readCredentials,
  type StoredSession,
  updateCredentials,
  withSession,
} from "./credentials.ts";
import {
  authorizationUrl,
  checkApiUrl,
  DEFAULT_CLIENT_ID,
  discoverMetadata,
  exchangeCode,
  printable,
  type ServerMetadata,
} from "./oauth.ts";
import { deniedPage, failurePage, successPage } from "./pages.ts";
import { createPkcePair, randomToken } from "./pkce.ts";
import { fetchMe, TOKEN_ENV, tokenFromEnv } from "./session.ts";

/** Flags of `cloudsignal login`. */
export interface LoginOptions {
  /** OAuth client id (`--client-id` / CLOUDSIGNAL_CLIENT_ID). */
  clientId?: string;
  /** Callback port (`--port`); absent or 0 lets the system choose. */
  port?: string;
  /** False with `--no-browser`: only print the URL. */
  browser?: boolean;
  /** Print the result as JSON on stdout. */
  json?: boolean;
}

/** The environment variable that shortens the 5-minute time-out (seconds; for tests). */
export const LOGIN_TIMEOUT_ENV = "CLOUDSIGNAL_LOGIN_TIMEOUT";

/** The documented time-out. */
export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300;

/** Exit code after Ctrl+C (128 + SIGINT). */
export const EXIT_CANCELLED = 130;

/** `5 minutes`, `1 minute`, `90 seconds`. */
export function formatDuration(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) {
    const minutes = seconds / 60;
    return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  const rounded = Math.round(seconds * 10) / 10;
  return `${rounded} second${rounded === 1 ? "" : "s"}`;
}

function clock(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** Parses `--port`: an integer from 0 to 65535. */
export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) {
    throw new UsageError(
      `--port must be a whole number from 1 to 65535 (or 0 for any free port), got "${
        printable(value, 40)
      }"`,
    );
  }
  return Number(value);
}

/** The time-out in seconds: CLOUDSIGNAL_LOGIN_TIMEOUT or 300. */
export function loginTimeoutSeconds(env: (name: string) => string | undefined): number {
  const raw = env(LOGIN_TIMEOUT_ENV)?.trim();
  if (raw === undefined || raw === "") return DEFAULT_LOGIN_TIMEOUT_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new UsageError(
      `${LOGIN_TIMEOUT_ENV} must be a number of seconds above 0 (at most 86400), got "${
        printable(raw, 40)
      }"`,
    );
  }
  return seconds;
}

/** Where the login waits: a countdown line on a terminal, one line otherwise. */
class WaitStatus {
  #timer: ReturnType<typeof setInterval> | undefined;
  #shown = false;

  constructor(readonly context: CliContext, readonly deadline: number, readonly total: number) {}

  start(): void {
    const io = this.context.io;
    if (!io.stderrIsTerminal) {
      io.err(`Waiting for the browser sign-in (times out in ${formatDuration(this.total)})…\n`);
      return;
    }
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), 1_000);
  }

  #draw(): void {
    const left = (this.deadline - Date.now()) / 1000;
    const io = this.context.io;
    io.err(
      `\r\u001b[2K${io.errStyle.cyan("…")} Waiting for the browser sign-in: ${clock(left)} left ${
        io.errStyle.dim("(Ctrl+C to cancel)")
      }`,
    );
    this.#shown = true;
  }

  /** Prints a message line without garbling the countdown. */
  say(text: string): void {
    const io = this.context.io;
    if (this.#shown) io.err("\r\u001b[2K");
    io.err(`${text}\n`);
    if (this.#timer !== undefined) this.#draw();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#shown) this.context.io.err("\r\u001b[2K");
    this.#shown = false;
  }
}

type Outcome =
  | { kind: "callback"; result: CallbackResult }
  | { kind: "timeout" }
  | { kind: "cancelled" };

/** Thrown inside the flow when Ctrl+C was pressed. */
class Cancelled extends Error {}

function checkIssuer(metadata: ServerMetadata, iss: string | null): void {
  const required = metadata.authorization_response_iss_parameter_supported;
  if (iss === null && !required) return;
  if (metadata.issuer === null || iss !== metadata.issuer) {
    throw new CliError(
      "the login response names a different authorization server than the one the login started with (iss mismatch); nothing was stored",
      EXIT_ERROR,
      "Run `cloudsignal login` again; if it repeats, report it.",
    );
  }
}

/** Runs the login; returns the exit code. */
export async function login(context: CliContext, options: LoginOptions): Promise<number> {
  const io = context.io;
  if (tokenFromEnv(context) !== null) {
    throw new CliError(
      `${TOKEN_ENV} is set, so commands use that token and would ignore a stored login`,
      EXIT_ERROR,
      `Unset it first (unset ${TOKEN_ENV}) to log in with the browser.`,
    );
  }
  const port = parsePort(options.port);
  const timeoutSeconds = loginTimeoutSeconds((name) => io.env(name));
  const clientId = options.clientId?.trim() || DEFAULT_CLIENT_ID;
  const location = credentialsLocation(context.home);
  await readCredentials(location); // refuse an unsafe or damaged store before the user signs in

  const cancel = new AbortController();
  const onInterrupt = () => cancel.abort(new Cancelled("cancelled"));
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
    listening = true;
  } catch { /* signals unsupported here: Ctrl+C then ends the process as usual */ }

  let server: CallbackServer | null = null;
  let status: WaitStatus | null = null;
  let ended = false;
  try {
    checkApiUrl(context.apiUrl);
    const metadata = await discoverMetadata(context, context.apiUrl, cancel.signal);
    const pkce = await createPkcePair();
    const state = randomToken(32);
    server = startCallbackServer({
      port,
      state,
      onRefused: (reason) =>
        status?.say(
          `${
            io.errStyle.yellow("Warning:")
          } refused ${reason} on the login callback; still waiting.`,
        ),
    });
    const url = authorizationUrl(metadata, {
      clientId,
      redirectUri: server.redirectUri,
      challenge: pkce.challenge,
      state,
    });
    const deadline = Date.now() + timeoutSeconds * 1000;
    io.err(`To sign in, open this URL in a browser:\n\n  ${url}\n\n`);
    const waiting = new WaitStatus(context, deadline, timeoutSeconds);
    status = waiting;
    if (options.browser !== false) {
      io.err(`Opening it in your browser (--no-browser to skip)…\n`);
      void openBrowser(url, (name) => io.env(name)).then((outcome) => {
        if (outcome.opened === null && !ended) {
          waiting.say(
            `Could not open a browser (${
              outcome.failures.join("; ") || "no opener"
            }); open the URL above yourself.`,
          );
        }
      });
    }
    waiting.start();

    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race<Outcome>([
      server.callback.then((result) => ({ kind: "callback", result })),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ kind: "timeout" }), Math.max(0, deadline - Date.now()));
      }),
      new Promise((resolve) => {
        if (cancel.signal.aborted) resolve({ kind: "cancelled" });
        cancel.signal.addEventListener("abort", () => resolve({ kind: "cancelled" }), {
          once: true,
        });
      }),
    ]);
    clearTimeout(timer);
    waiting.stop();

    if (outcome.kind === "timeout") {
      await server.finish(failurePage("The login timed out."));
      throw new CliError(
        "Login timed out",
        EXIT_ERROR,
        `No sign-in arrived within ${
          formatDuration(timeoutSeconds)
        }. Run \`cloudsignal login\` to try again.`,
      );
    }
    if (outcome.kind === "cancelled") throw new Cancelled("cancelled");
    const result = outcome.result;
    if (result.kind === "error") {
      if (result.error === "access_denied") {
        await server.finish(deniedPage());
        throw new AuthError(
          "Login was denied in the browser (access_denied); nothing was stored.",
          "Run `cloudsignal login` to try again.",
        );
      }
      const detail = `${printable(result.error, 60)}${
        result.description ? `: ${printable(result.description)}` : ""
      }`;
      await server.finish(failurePage(`The authorization server answered: ${detail}`));
      throw new CliError(`the authorization server refused the login (${detail})`);
    }
    try {
      checkIssuer(metadata, result.iss);
      if (result.code === "") {
        throw new CliError("the login callback carried no authorization code");
      }
      const tokens = await exchangeCode(context, {
        tokenEndpoint: metadata.token_endpoint,
        clientId,
        code: result.code,
        redirectUri: server.redirectUri,
        verifier: pkce.verifier,
      }, cancel.signal);
      const me = await fetchMe(context, context.apiUrl, tokens.access_token, cancel.signal);
      if (me === null) {
        throw new CliError(
          `${context.apiUrl} refused the new access token (HTTP 401 on GET /v2/me)`,
          EXIT_ERROR,
          "The authorization server and the API do not agree; check --api-url.",
        );
      }
      const now = Date.now();
      const session: StoredSession = {
        api_url: context.apiUrl,
        organization: me.organization,
        user: { id: me.user_id, email: me.email },
        client_id: clientId,
        token_endpoint: metadata.token_endpoint,
        revocation_endpoint: metadata.revocation_endpoint,
        access_token: tokens.access_token,
        access_token_expires_at: tokens.expires_in === null
          ? null
          : new Date(now + tokens.expires_in * 1000).toISOString(),
        refresh_token: tokens.refresh_token,
        refresh_token_expires_at: tokens.refresh_token_expires_in === null
          ? null
          : new Date(now + tokens.refresh_token_expires_in * 1000).toISOString(),
        scope: tokens.scope,
        created_at: new Date(now).toISOString(),
        issued_at: new Date(now).toISOString(),
      };
      await updateCredentials(location, (file) => ({
        write: withSession(file, session, true),
        result: undefined,
      }));
      await server.finish(successPage(me.email, me.organization.name));
      io.err(
        `${
          io.errStyle.green("Logged in")
        } as ${me.email} to organization ${me.organization.name} ` +
          `(${me.organization.id}) at ${context.apiUrl}.\nCredentials saved to ${location.file}.\n`,
      );
      if (!tokens.refresh_token) {
        io.err(
          `${
            io.errStyle.yellow("Note:")
          } the server issued no refresh token; run \`cloudsignal login\` again when the access token expires.\n`,
        );
      }
      if (options.json) {
        io.out(
          `${
            JSON.stringify({
              api_url: context.apiUrl,
              email: me.email,
              user_id: me.user_id,
              organization: me.organization,
              credentials_file: location.file,
              token_expires_at: session.access_token_expires_at,
            })
          }\n`,
        );
      }
      return EXIT_OK;
    } catch (error) {
      if (!(error instanceof Cancelled) && !cancel.signal.aborted) {
        const message = error instanceof Error ? error.message : String(error);
        await server.finish(failurePage(`The CLI could not complete the login: ${message}.`));
      }
      throw error;
    }
  } catch (error) {
    if (error instanceof Cancelled || cancel.signal.aborted) {
      status?.stop();
      await server?.finish(failurePage("The login was cancelled in the terminal."));
      io.err("\nLogin cancelled; nothing was stored.\n");
      return EXIT_CANCELLED;
    }
    throw error;
  } finally {
    ended = true;
    status?.stop();
    if (listening) Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/**
 * `cloudsignal login`: OAuth 2.0 authorization code flow with PKCE (S256) and `state`,
 * through the user's browser and a loopback callback server on 127.0.0.1 (RFC 8252).
 * The URL is printed before a browser is tried, so headless, SSH and WSL users can open it
 * elsewhere. Times out after 5 minutes (`CLOUDSIGNAL_LOGIN_TIMEOUT` seconds, for tests);
 * Ctrl+C cancels. On success the session is stored and becomes the current one.
 */

import { AuthError, OperationError, UsageError } from "../core/errors.ts";
import type { OperationContext } from "../core/context.ts";
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
  requestedScope,
  type ServerMetadata,
} from "./oauth.ts";
import { deniedPage, failurePage, successPage } from "./pages.ts";
import { createPkcePair, randomToken } from "./pkce.ts";
import { fetchMe, loginCommand, TOKEN_ENV, tokenFromEnv } from "./session.ts";

/** What a login needs to know. */
export interface LoginOptions {
  /** OAuth client id (`--client-id` / CLOUDSIGNAL_CLIENT_ID). */
  clientId?: string;
  /** Callback port (`--port`); absent or 0 lets the system choose. */
  port?: string;
  /** False with `--no-browser`: only show the URL. */
  browser?: boolean;
  /** `--scope` / CLOUDSIGNAL_SCOPE: replaces the scopes chosen from the metadata ("" asks for none). */
  scope?: string;
}

/** How the login talks to the person while it waits. */
export interface LoginUi {
  /** The authorization URL, before any browser is tried. */
  showUrl(url: string, openingBrowser: boolean): void;
  /** The wait for the sign-in starts; it ends at `deadline` (ms since the epoch). */
  waiting(deadline: number, totalSeconds: number): void;
  /** Something went wrong that does not end the login (a refused callback). */
  warn(text: string): void;
  /** Something the person should know while waiting (no browser could be opened). */
  say(text: string): void;
  /** The wait is over (signed in, failed, timed out or cancelled). */
  stopWaiting(): void;
}

/** A completed login. */
export interface LoginResult {
  api_url: string;
  email: string;
  user_id: string;
  organization: { id: string; short_id: string; name: string };
  credentials_file: string;
  token_expires_at: string | null;
  /** Whether the server issued a refresh token (without one, the session ends with the token). */
  refreshable: boolean;
  /** The scope asked for (null: none was sent). */
  requested_scope: string | null;
  /** The scope granted (the server's answer, else the one asked for). */
  scope: string | null;
  /** Whether the server lists `offline_access` (asking for it may give a refresh token). */
  offline_access_supported: boolean;
  /** `cloudsignal login …` for this API and client, for messages. */
  login_command: string;
}

/** The environment variable that shortens the 5-minute time-out (seconds; for tests). */
export const LOGIN_TIMEOUT_ENV = "CLOUDSIGNAL_LOGIN_TIMEOUT";

/** The documented time-out. */
export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300;

/** `5 minutes`, `1 minute`, `90 seconds`. */
export function formatDuration(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) {
    const minutes = seconds / 60;
    return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  const rounded = Math.round(seconds * 10) / 10;
  return `${rounded} second${rounded === 1 ? "" : "s"}`;
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

type Outcome =
  | { kind: "callback"; result: CallbackResult }
  | { kind: "timeout" }
  | { kind: "cancelled" };

function checkIssuer(metadata: ServerMetadata, iss: string | null, again: string): void {
  const required = metadata.authorization_response_iss_parameter_supported;
  if (iss === null && !required) return;
  if (metadata.issuer === null || iss !== metadata.issuer) {
    throw new OperationError(
      "the login response names a different authorization server than the one the login started with (iss mismatch); nothing was stored",
      `Run \`${again}\` again; if it repeats, report it.`,
    );
  }
}

function cancelled(): OperationError {
  return new OperationError("Login cancelled; nothing was stored.", undefined, "cancelled");
}

/**
 * Logs in through the browser and stores the session as the current one (commands without
 * `--api-url` use it). Asks for the scopes `requestedScope` chooses and stores the granted one.
 * `context.signal` cancels the wait (an `OperationError` with code `cancelled`).
 */
export async function login(
  context: OperationContext,
  options: LoginOptions,
  ui: LoginUi,
): Promise<LoginResult> {
  if (tokenFromEnv(context) !== null) {
    throw new OperationError(
      `${TOKEN_ENV} is set, so commands use that token and would ignore a stored login`,
      `Unset it first (unset ${TOKEN_ENV}) to log in with the browser.`,
    );
  }
  const port = parsePort(options.port);
  const timeoutSeconds = loginTimeoutSeconds((name) => context.env(name));
  const clientId = options.clientId?.trim() || DEFAULT_CLIENT_ID;
  const again = loginCommand(context.apiUrl, clientId);
  const location = credentialsLocation(context.home);
  await readCredentials(location); // refuse an unsafe or damaged store before the user signs in

  const cancel = context.signal ?? new AbortController().signal;
  let server: CallbackServer | null = null;
  let ended = false;
  try {
    checkApiUrl(context.apiUrl);
    const metadata = await discoverMetadata(context, context.apiUrl, cancel);
    const pkce = await createPkcePair();
    const state = randomToken(32);
    const scope = requestedScope(metadata, options.scope);
    server = startCallbackServer({
      port,
      state,
      onRefused: (reason) => ui.warn(`refused ${reason} on the login callback; still waiting.`),
    });
    const url = authorizationUrl(metadata, {
      clientId,
      redirectUri: server.redirectUri,
      challenge: pkce.challenge,
      state,
      scope,
    });
    const deadline = Date.now() + timeoutSeconds * 1000;
    ui.showUrl(url, options.browser !== false);
    if (options.browser !== false) {
      void openBrowser(url, (name) => context.env(name)).then((outcome) => {
        if (outcome.opened === null && !ended) {
          ui.say(
            `Could not open a browser (${
              outcome.failures.join("; ") || "no opener"
            }); open the URL above yourself.`,
          );
        }
      });
    }
    ui.waiting(deadline, timeoutSeconds);

    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race<Outcome>([
      server.callback.then((result) => ({ kind: "callback", result })),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ kind: "timeout" }), Math.max(0, deadline - Date.now()));
      }),
      new Promise((resolve) => {
        if (cancel.aborted) resolve({ kind: "cancelled" });
        cancel.addEventListener("abort", () => resolve({ kind: "cancelled" }), { once: true });
      }),
    ]);
    clearTimeout(timer);
    ui.stopWaiting();

    if (outcome.kind === "timeout") {
      await server.finish(failurePage("The login timed out."));
      throw new OperationError(
        "Login timed out",
        `No sign-in arrived within ${
          formatDuration(timeoutSeconds)
        }. Run \`${again}\` to try again.`,
      );
    }
    if (outcome.kind === "cancelled") throw cancelled();
    const result = outcome.result;
    if (result.kind === "error") {
      if (result.error === "access_denied") {
        await server.finish(deniedPage());
        throw new AuthError(
          "Login was denied in the browser (access_denied); nothing was stored.",
          `Run \`${again}\` to try again.`,
        );
      }
      const detail = `${printable(result.error, 60)}${
        result.description ? `: ${printable(result.description)}` : ""
      }`;
      await server.finish(failurePage(`The authorization server answered: ${detail}`));
      throw new OperationError(`the authorization server refused the login (${detail})`);
    }
    try {
      checkIssuer(metadata, result.iss, again);
      if (result.code === "") {
        throw new OperationError("the login callback carried no authorization code");
      }
      const tokens = await exchangeCode(context, {
        tokenEndpoint: metadata.token_endpoint,
        clientId,
        code: result.code,
        redirectUri: server.redirectUri,
        verifier: pkce.verifier,
      }, cancel);
      const me = await fetchMe(context, context.apiUrl, tokens.access_token, cancel);
      if (me === null) {
        throw new OperationError(
          `${context.apiUrl} refused the new access token (HTTP 401 on GET /v2/me)`,
          "The authorization server and the API do not agree; check --api-url.",
        );
      }
      const now = Date.now();
      const session: StoredSession = {
        api_url: context.apiUrl,
        organization: me.organization,
        user: { id: me.user_id, email: me.email, username: me.username },
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
        scope: tokens.scope ?? scope,
        created_at: new Date(now).toISOString(),
        issued_at: new Date(now).toISOString(),
      };
      await updateCredentials(location, (file) => ({
        write: withSession(file, session, true),
        result: undefined,
      }));
      await server.finish(successPage(me.email, me.organization.name));
      return {
        api_url: context.apiUrl,
        email: me.email,
        user_id: me.user_id,
        organization: me.organization,
        credentials_file: location.file,
        token_expires_at: session.access_token_expires_at,
        refreshable: tokens.refresh_token !== null,
        requested_scope: scope,
        scope: session.scope,
        offline_access_supported: metadata.scopes_supported?.includes("offline_access") ?? false,
        login_command: again,
      };
    } catch (error) {
      if (!cancel.aborted) {
        const message = error instanceof Error ? error.message : String(error);
        await server.finish(failurePage(`The CLI could not complete the login: ${message}.`));
      }
      throw error;
    }
  } catch (error) {
    if (cancel.aborted) {
      ui.stopWaiting();
      await server?.finish(failurePage("The login was cancelled in the terminal."));
      throw cancelled();
    }
    throw error;
  } finally {
    ended = true;
    ui.stopWaiting();
  }
}

/**
 * The auth commands: `login`, `whoami`, `logout`, and `auth status|switch|token`; the work
 * happens in src/auth/.
 */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program, resolveApiUrlWith } from "../cli/program.ts";
import { examplesText } from "../cli/examples.ts";
import { currentApiUrl } from "../auth/current.ts";

/**
 * Registers `login`, `whoami`, `logout` and the `auth` group, and makes commands without
 * `--api-url` use the current session's API URL.
 */
export function registerAuth(program: Program): void {
  resolveApiUrlWith(currentApiUrl);
  program
    .command("login")
    .description(
      "Log in with your browser (OAuth 2.0 authorization code + PKCE). The URL is printed " +
        "first, so you can open it on another machine when this one has no browser. Times " +
        "out after 5 minutes.",
    )
    .addOption(
      new Option("--client-id <id>", "OAuth client id (default cloudsignal-cli)").env(
        "CLOUDSIGNAL_CLIENT_ID",
      ),
    )
    .addOption(
      new Option(
        "--scope <scopes>",
        'scopes to ask for, space-separated ("" for none; default: openid and offline_access when the server lists them)',
      ).env("CLOUDSIGNAL_SCOPE"),
    )
    .option("--port <port>", "port of the local callback on 127.0.0.1 (default: any free port)")
    .option("--no-browser", "only print the URL; do not try to open a browser")
    .option("--json", "print the result as JSON on stdout")
    .addHelpText(
      "after",
      examplesText([
        ["Log in with the browser", "cloudsignal login"],
        [
          "On a remote machine, through an SSH tunnel",
          "cloudsignal login --no-browser --port 8123",
        ],
        [
          "Into a local platform (cloudsignal dev)",
          "cloudsignal login --api-url http://127.0.0.1:8780",
        ],
        ["Without a refresh token (only the openid scope)", "cloudsignal login --scope openid"],
      ]),
    )
    .addHelpText(
      "after",
      `
Headless machine or SSH: run \`ssh -L 8123:127.0.0.1:8123 <host>\`, then on the host
\`cloudsignal login --no-browser --port 8123\` and open the printed URL on your computer.
Without a tunnel, the browser ends on a page that cannot load: copy its address and run
\`curl '<address>'\` on the machine where login waits.
The new session becomes the current one: later commands without --api-url use it
(\`cloudsignal auth status\` lists sessions, \`cloudsignal auth switch\` changes it).
Without --api-url, login signs in to the default API, https://api.cloudsignal.io.
CI and scripts: set CLOUDSIGNAL_TOKEN to an access token instead of logging in.
See docs/auth.md.`,
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runLogin } = await import("./auth/login.ts");
      const scopeFromEnv = command.getOptionValueSource("scope") === "env";
      return await runLogin(context, {
        ...options,
        scope: scopeFromEnv && options.scope?.trim() === "" ? undefined : options.scope,
      });
    }));

  program
    .command("whoami")
    .description(
      "Show the logged-in user, organization and when the access token expires, as the server says (exit 4 when not logged in).",
    )
    .option("--json", "print as JSON (never includes a token)")
    .addHelpText(
      "after",
      examplesText([
        ["Who you are logged in as", "cloudsignal whoami"],
        ["The organization id, in a script", "cloudsignal whoami --json"],
      ]),
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runWhoami } = await import("./auth/account.ts");
      return await runWhoami(context, options);
    }));

  program
    .command("logout")
    .description(
      "Revoke the current session at the server (best effort) and delete it from this machine; say which session is current afterwards.",
    )
    .option(
      "--org <organization>",
      "log out of this organization's session (name, id or short id)",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["End the session", "cloudsignal logout"],
        [
          "End the session with a local platform",
          "cloudsignal logout --api-url http://127.0.0.1:8780",
        ],
        ["Remove the session of an organization that is gone", "cloudsignal logout --org Acme"],
      ]),
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runLogout } = await import("./auth/account.ts");
      return await runLogout(context, options);
    }));

  const auth = program
    .command("auth")
    .description("Stored sessions: list them, choose the current one, print its access token.")
    .addHelpText(
      "after",
      examplesText([
        ["Every stored session, and which one is current", "cloudsignal auth status"],
        ["Make another organization's session current", "cloudsignal auth switch --org Acme"],
        ["The access token, e.g. as an MQTT password", "cloudsignal auth token"],
      ]),
    );

  auth
    .command("status")
    .description(
      "List every stored session: API URL, organization, user, which one is current, where the token comes from, when it expires and when a new login will be needed.",
    )
    .option("--check", "also ask each session's server whether it still works")
    .option("--json", "print as JSON (never includes a token)")
    .addHelpText(
      "after",
      examplesText([
        ["Every stored session, and which one is current", "cloudsignal auth status"],
        ["Also ask each server whether the session still works", "cloudsignal auth status --check"],
      ]),
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runAuthStatus } = await import("./auth/status.ts");
      return await runAuthStatus(context, options);
    }));

  auth
    .command("switch")
    .description(
      "Choose the current session, by --api-url and/or --org (asks on a terminal when several match). Its server is asked first: a session it says is over is refused.",
    )
    .option("--org <organization>", "the organization's name, id or short id")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["The organization Acme's session", "cloudsignal auth switch --org Acme"],
        [
          "The session with a local platform",
          "cloudsignal auth switch --api-url http://127.0.0.1:8780",
        ],
        ["The other session, when there are two", "cloudsignal auth switch"],
      ]),
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runAuthSwitch } = await import("./auth/switch.ts");
      return await runAuthSwitch(context, options);
    }));

  auth
    .command("token")
    .description(
      "Print the current session's access token (refreshed first when needed), for scripts and as an MQTT password. The only command that prints a token.",
    )
    .addHelpText(
      "after",
      examplesText([["The token, for a script", "cloudsignal auth token"]]),
    )
    .addHelpText(
      "after",
      "\nAs an MQTT password, with the MQTT username `cloudsignal whoami` shows:\n" +
        `  mosquitto_sub -u ada@k3x9p2aa -P "$(cloudsignal auth token)" -t 'agents/#'`,
    )
    .action(act(async (_options, command) => {
      const context = contextOf(command);
      const { runAuthToken } = await import("./auth/token.ts");
      return await runAuthToken(context);
    }));
}

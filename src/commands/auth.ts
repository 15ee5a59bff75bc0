/** The auth commands: `login`, `whoami`, `logout`; the work happens in src/auth/. */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { examplesText } from "../cli/examples.ts";

/** Registers `login`, `whoami` and `logout`. */
export function registerAuth(program: Program): void {
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
      ]),
    )
    .addHelpText(
      "after",
      `
Headless machine or SSH: run \`ssh -L 8123:127.0.0.1:8123 <host>\`, then on the host
\`cloudsignal login --no-browser --port 8123\` and open the printed URL on your computer.
Without a tunnel, the browser ends on a page that cannot load: copy its address and run
\`curl '<address>'\` on the machine where login waits.
CI and scripts: set CLOUDSIGNAL_TOKEN to an access token instead of logging in.
See docs/auth.md.`,
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runLogin } = await import("./auth/login.ts");
      return await runLogin(context, options);
    }));

  program
    .command("whoami")
    .description(
      "Show the logged-in user, organization and when the access token expires (exit 4 when not logged in).",
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
      "Revoke the current session at the server (best effort) and delete it from this machine.",
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
      ]),
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runLogout } = await import("./auth/account.ts");
      return await runLogout(context, options);
    }));
}

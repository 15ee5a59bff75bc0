/** The `dev` command: flags and help; the platform lives in src/platform/. */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { examplesText } from "../cli/examples.ts";

/** Registers `dev`. */
export function registerDev(program: Program): void {
  program
    .command("dev")
    .description(
      "Run a local CloudSignal for offline work and tests: the API and login page, and an " +
        "MQTT broker that enforces your ACL policy, on 127.0.0.1 only, with data in SQLite. " +
        "A development platform: no TLS. Stops on Ctrl+C.",
    )
    .option("--api-port <port>", "API and login page port (0 = any free port)", "8780")
    .option("--mqtt-port <port>", "MQTT port (0 = any free port)", "1883")
    .addOption(
      new Option("--data-dir <dir>", "the directory of the SQLite file (created when missing)")
        .default(undefined, "<CLOUDSIGNAL_HOME>/dev"),
    )
    .option("--email <email>", "seeded user's email", "dev@cloudsignal.local")
    .addOption(
      new Option(
        "--password <password>",
        "seeded user's password (default: generated on first start and printed)",
      ).env("CLOUDSIGNAL_DEV_PASSWORD"),
    )
    .option("--access-token-ttl <seconds>", "access token lifetime", "3600")
    .option(
      "--refresh-token-ttl <seconds>",
      "refresh token lifetime (1209600 = 14 days)",
      "1209600",
    )
    .option("--auth-code-ttl <seconds>", "authorization code lifetime", "60")
    .option("--reset", "delete the platform's database first (all users, policies, sessions)")
    .option("--quiet-publishes", "do not log allowed PUBLISHes (denials are always logged)")
    .option("--json", "print the URLs, organization and user as one JSON line on stdout")
    .addHelpText(
      "after",
      examplesText([
        ["Start it (API on 8780, MQTT on 1883)", "cloudsignal dev"],
        [
          "For a test run: free ports, a throwaway database, JSON to read the URLs from",
          "cloudsignal dev --api-port 0 --mqtt-port 0 --data-dir /tmp/cloudsignal-dev --json",
        ],
        ["Start over with an empty database", "cloudsignal dev --reset"],
      ]),
    )
    .addHelpText(
      "after",
      "\nThen: cloudsignal login --api-url <the printed API URL>\n" +
        "MQTT clients connect with username <username>@<org_short_id> and, as password,\n" +
        "an access token or the user's MQTT password (the seeded user's is its login\n" +
        "password). See docs/platform.md.",
    )
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { runDev } = await import("./dev/start_platform.ts");
      return await runDev(context, options);
    }));
}

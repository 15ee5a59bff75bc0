/** The `user` command group: identity claims. */

import { act, contextOf, type Program } from "../cli/program.ts";
import { examplesText } from "../cli/examples.ts";

/** Registers `user list` and `user claims set|show|unset`. */
export function registerUser(program: Program): void {
  const user = program.command("user").description("Manage the users of your organization")
    .addHelpText(
      "after",
      examplesText([["A user's identity claims", "cloudsignal user claims show scout"]]),
    );

  user
    .command("list")
    .description("List the users of your organization: username, email and id.")
    .option("--json", "print them as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["The users of your organization", "cloudsignal user list"],
        ["Only their usernames", "cloudsignal user list --json | jq -r '.users[].username'"],
      ]),
    )
    .action(act(async (options, command) => {
      const { runListUsers } = await import("./user/list.ts");
      return await runListUsers(contextOf(command), options);
    }));
  const claims = user
    .command("claims")
    .description(
      "Identity claims: the values {$self} rules bind topics to. A change applies to the next " +
        "PUBLISH or SUBSCRIBE of connected clients.",
    )
    .addHelpText(
      "after",
      examplesText([
        [
          "Set, show and remove a claim",
          "cloudsignal user claims set scout --key agent_id --value scout",
        ],
        ["", "cloudsignal user claims show scout"],
        ["", "cloudsignal user claims unset scout --key agent_id"],
      ]),
    );

  claims
    .command("set")
    .description(
      "Set a claim. A value with / + # or NUL is refused when a rule puts the claim into a topic.",
    )
    .argument("<user>", "the user's id or username")
    .requiredOption("--key <key>", "claim name, e.g. agent_id")
    .requiredOption("--value <value>", "claim value")
    .option("--json", "print the user's claims after the change as JSON")
    .addHelpText(
      "after",
      examplesText([
        [
          "Bind scout's {$self} to scout",
          "cloudsignal user claims set scout --key agent_id --value scout",
        ],
        [
          "Grant channels (a require_grant rule)",
          "cloudsignal user claims set alice --key channels --value lobby,dev",
        ],
      ]),
    )
    .action(act(async (userId, options, command) => {
      const { runSetClaim } = await import("./user/claims.ts");
      return await runSetClaim(contextOf(command), userId, options.key, options.value, options);
    }));

  claims
    .command("show")
    .description("List a user's claims.")
    .argument("<user>", "the user's id or username")
    .option("--json", "print them as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["A user's claims", "cloudsignal user claims show scout"],
        ["As JSON", "cloudsignal user claims show scout --json"],
      ]),
    )
    .action(act(async (userId, options, command) => {
      const { runShowClaims } = await import("./user/claims.ts");
      return await runShowClaims(contextOf(command), userId, options);
    }));

  claims
    .command("unset")
    .description("Remove a claim.")
    .argument("<user>", "the user's id or username")
    .requiredOption("--key <key>", "claim name")
    .option("--json", "print the user's claims after the change as JSON")
    .addHelpText(
      "after",
      examplesText([["Remove a claim", "cloudsignal user claims unset scout --key agent_id"]]),
    )
    .action(act(async (userId, options, command) => {
      const { runUnsetClaim } = await import("./user/claims.ts");
      return await runUnsetClaim(contextOf(command), userId, options.key, options);
    }));
}

/** The `acl` command group: flags and help; `./acl/` runs and prints, src/policy/ does the work. */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { PRESET_NAMES } from "../policy/presets.ts";
import { examplesText } from "../cli/examples.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Registers `acl get|update|validate|simulate|test|init|revisions`. */
export function registerAcl(program: Program): void {
  const acl = program
    .command("acl")
    .description("Validate, simulate, test and manage ACL policies")
    .addHelpText(
      "after",
      examplesText([
        ["Fetch, edit, check and push the policy", "cloudsignal acl get -o policy.json"],
        ["", "cloudsignal acl validate policy.json"],
        ["", "cloudsignal acl update policy.json"],
      ]),
    );

  acl
    .command("get")
    .alias("pull")
    .description(
      "Print the organization's policy as JSON: formatted on a terminal, compact when piped. " +
        "The revision is recorded so that `acl update` can refuse to overwrite a newer one.",
    )
    .option("--revision <n>", "an earlier revision instead of the live one")
    .option("--pretty", "always format the JSON")
    .option("--compact", "always print it on one line")
    .option("-o, --output <file>", "write to a file (atomically) instead of stdout")
    .option("--force", "replace the output file if it exists with other contents")
    .addHelpText(
      "after",
      examplesText([
        ["The live policy, formatted, in a file to edit", "cloudsignal acl get -o policy.json"],
        ["An earlier revision", "cloudsignal acl get --revision 3 -o old.json"],
        ["Compact JSON for a script", "cloudsignal acl get --compact > policy.json"],
      ]),
    )
    .action(act(async (options, command) => {
      const { runGet } = await import("./acl/get.ts");
      return await runGet(contextOf(command), options);
    }));

  acl
    .command("update")
    .alias("push")
    .description(
      "Replace the organization's policy with a file: validates it, runs its tests, shows " +
        "the changes against the live policy, asks, and refuses if the live policy changed " +
        "since you fetched it.",
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("-y, --yes", "do not ask for confirmation (needed without a terminal)")
    .option("--dry-run", "show the changes and send nothing")
    .option(
      "--if-revision <n>",
      "the live revision your file is based on (default: the last `acl get`)",
    )
    .option("--force", "replace whatever revision is live")
    .addHelpText(
      "after",
      examplesText([
        ["Validate, test, show the changes, ask, write", "cloudsignal acl update policy.json"],
        ["Only show the changes", "cloudsignal acl update policy.json --dry-run"],
        ["In CI, without a question", "cloudsignal acl update policy.json --yes"],
      ]),
    )
    .action(act(async (file, options, command) => {
      const { runUpdate } = await import("./acl/update.ts");
      return await runUpdate(contextOf(command), file, options);
    }));

  acl
    .command("revisions")
    .description(
      "List the policy's revisions, newest first (each is kept; see acl get --revision).",
    )
    .option("--json", "print them as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["Who changed the policy, and when", "cloudsignal acl revisions"],
        ["As JSON, for a script", "cloudsignal acl revisions --json"],
      ]),
    )
    .action(act(async (options, command) => {
      const { runRevisions } = await import("./acl/revisions.ts");
      return await runRevisions(contextOf(command), options);
    }));

  acl
    .command("validate")
    .description(
      "Check a policy file: JSON Schema and semantic checks, then the server check. Exit 0 when valid (warnings allowed), 1 when there are errors.",
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("--local-only", "skip the server check (no network)")
    .option("--json", "print the findings as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["Local checks, then the organization's", "cloudsignal acl validate policy.json"],
        ["Offline, from stdin", "cloudsignal acl validate - --local-only < policy.json"],
      ]),
    )
    .action(act(async (file, options, command) => {
      const { runValidate } = await import("./acl/validate.ts");
      return await runValidate(contextOf(command), file, options);
    }));

  acl
    .command("simulate")
    .description(
      "Decide a hypothetical PUBLISH or SUBSCRIBE with the broker's evaluator and say why: " +
        "with a policy file, or the organization's live policy.",
    )
    .requiredOption("--topic <topic>", "topic name (pub) or filter (sub)")
    .addOption(
      new Option("--action <action>", "what the client does").choices(["pub", "sub"])
        .makeOptionMandatory(),
    )
    .option("--policy <file>", "decide with this policy file (offline) instead of the live one")
    .option(
      "--user <id>",
      "the identity and claims of this user of your organization (id or username)",
    )
    .option("--username <name>", "MQTT username, without @<org>")
    .option("--client-id <id>", "MQTT client id ({client_id})")
    .option("--org-id <id>", "organization id ({org_id})")
    .option("--org-short-id <id>", "organization short id ({org_short_id})")
    .option(
      "--claim <key=value>",
      "an identity claim (repeatable; overrides --user's)",
      collect,
      [] as string[],
    )
    .option("--qos <level>", "requested QoS: 0, 1 or 2 (default 0)")
    .option("--retain", "the publish is retained")
    .option("--json", "print the decision object as JSON")
    .option("--trace", "also show every rule's verdict")
    .option("--exit-status", "exit 3 when the decision is deny")
    .option("--compare-server", "also ask the API to decide, and fail on any difference")
    .addHelpText(
      "after",
      examplesText([
        [
          "Offline, with a policy file and a claim",
          "cloudsignal acl simulate --policy policy.json --username scout --claim agent_id=scout --action pub --topic agents/scout/card",
        ],
        [
          "A real user's claims against the live policy",
          "cloudsignal acl simulate --user scout --action sub --topic 'agents/+/card'",
        ],
        [
          "In a script: exit 3 when denied",
          "cloudsignal acl simulate --policy policy.json --username d1 --action pub --topic t --exit-status",
        ],
      ]),
    )
    .action(act(async (options, command) => {
      const { runSimulate } = await import("./acl/simulate.ts");
      return await runSimulate(contextOf(command), options);
    }));

  acl
    .command("test")
    .description(
      "Run a policy's tests: each failure with its explanation, and the rules no test exercised. Exit 3 when a test fails.",
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("--json", "print the results as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["Run the tests of a policy file", "cloudsignal acl test policy.json"],
        ["Machine-readable results", "cloudsignal acl test policy.json --json"],
      ]),
    )
    .action(act(async (file, options, command) => {
      const { runTest } = await import("./acl/test.ts");
      return await runTest(contextOf(command), file, options);
    }));

  acl
    .command("init")
    .description("Write a starter policy from one of the dashboard's presets.")
    .addOption(
      new Option("--preset <name>", "the starter policy").choices(PRESET_NAMES)
        .makeOptionMandatory(),
    )
    .option("-o, --output <file>", "where to write it (- for stdout)", "policy.json")
    .option("--force", "replace the file if it exists")
    .addHelpText(
      "after",
      examplesText([
        [
          "Start from the permit-all preset (writes policy.json)",
          "cloudsignal acl init --preset permit-all",
        ],
        [
          "Another preset, another file",
          "cloudsignal acl init --preset agent-pipelines -o agents.json",
        ],
        ["Print it instead", "cloudsignal acl init --preset blank -o -"],
      ]),
    )
    .action(act(async (options, command) => {
      const { runInit } = await import("./acl/init.ts");
      return await runInit(contextOf(command), options);
    }));
}

/** The `acl` command group: flags and help; `./acl/` runs and prints, src/policy/ does the work. */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { PRESET_NAMES } from "../policy/presets.ts";
import { examplesText } from "../cli/examples.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const FULL_HELP = "print every change of a long diff (otherwise paged on a terminal, or counted)";

/** Registers `acl get|update|diff|edit|rollback|revisions|validate|simulate|test|init`. */
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
        'It starts with "$revision": the live revision it is based on, which `acl update` ' +
        "checks so that it never overwrites a change you have not seen.",
    )
    .option(
      "--revision <n>",
      'an earlier revision instead of the live one ("$revision" stays the live one)',
    )
    .option("--pretty", "always format the JSON")
    .option("--compact", "always print it on one line")
    .option("-o, --output <file>", "write to a file (atomically, formatted) instead of stdout")
    .option("--force", "replace the output file if it exists with other contents")
    .option("--json", "print the revision, when it was fetched, the organization and the policy")
    .addHelpText(
      "after",
      examplesText([
        ["The live policy, formatted, in a file to edit", "cloudsignal acl get -o policy.json"],
        ["An earlier revision", "cloudsignal acl get --revision 3 -o old.json"],
        ["Compact JSON for a script", "cloudsignal acl get --compact > policy.json"],
        ["What was fetched, and when", "cloudsignal acl get --json | jq .revision"],
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
        "the changes against the live policy and the server's findings, asks, and refuses if " +
        'the live policy changed since the revision the file is based on (its "$revision").',
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("-y, --yes", "do not ask for confirmation (needed without a terminal)")
    .option("--dry-run", "show the changes and send nothing (exit 1 if an update would be refused)")
    .option(
      "--if-revision <n>",
      'the live revision your file is based on (default: the file\'s "$revision")',
    )
    .option("--force", "replace whatever revision is live")
    .option("--full", FULL_HELP)
    .option("--json", "print the outcome as JSON (the changes go to stderr when asking)")
    .addHelpText(
      "after",
      examplesText([
        ["Validate, test, show the changes, ask, write", "cloudsignal acl update policy.json"],
        ["Only show the changes", "cloudsignal acl update policy.json --dry-run"],
        ["Replace whatever is live", "cloudsignal acl update policy.json --force"],
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
    .option("--limit <n>", "how many to list, 1 to 1000 (default 30)")
    .option("--before <revision>", "only revisions older than this one (the next page)")
    .option("--json", "print them as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["Who changed the policy, and when", "cloudsignal acl revisions"],
        ["The next page", "cloudsignal acl revisions --limit 10 --before 40"],
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
    .option("--json", "print the file written, the preset and its counts as JSON")
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

  acl
    .command("diff")
    .description(
      "Compare a policy file with the live policy or an earlier revision: rules added, " +
        "removed and changed, and the test decisions that change. Exit 0 when they are the " +
        "same, 1 when they differ.",
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("--revision <n>", "compare with this revision instead of the live one")
    .option("--full", FULL_HELP)
    .option("--json", "print the differences as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["What an update would change", "cloudsignal acl diff policy.json"],
        ["Against an earlier revision", "cloudsignal acl diff policy.json --revision 5"],
        ["In a script: exit 1 when they differ", "cloudsignal acl diff policy.json --json"],
      ]),
    )
    .action(act(async (file, options, command) => {
      const { runDiff } = await import("./acl/diff.ts");
      return await runDiff(contextOf(command), file, options);
    }));

  acl
    .command("edit")
    .description(
      "Edit the live policy in $VISUAL or $EDITOR: on save it is checked and tested (a save " +
        "with problems reopens with them at the top), then the changes are shown and, once " +
        "you confirm, pushed based on the revision you edited.",
    )
    .option("-y, --yes", "push without asking")
    .option("--full", FULL_HELP)
    .option("--json", "print the outcome as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["Edit the live policy in $EDITOR", "cloudsignal acl edit"],
        ["Push what you save without the question", "cloudsignal acl edit --yes"],
      ]),
    )
    .action(act(async (options, command) => {
      const { runEdit } = await import("./acl/edit.ts");
      return await runEdit(contextOf(command), options);
    }));

  acl
    .command("rollback")
    .description(
      "Write an earlier revision back as the live policy: shows what changes, asks, and " +
        "refuses if the live policy changes in the meantime.",
    )
    .argument("<revision>", "the revision to restore (see acl revisions)")
    .option("-y, --yes", "do not ask for confirmation (needed without a terminal)")
    .option("--dry-run", "show the changes and send nothing")
    .option("--full", FULL_HELP)
    .option("--json", "print the outcome as JSON")
    .addHelpText(
      "after",
      examplesText([
        ["Write revision 5 back (shows the changes, asks)", "cloudsignal acl rollback 5"],
        ["Only show what would change", "cloudsignal acl rollback 5 --dry-run"],
      ]),
    )
    .action(act(async (revision, options, command) => {
      const { runRollback } = await import("./acl/rollback.ts");
      return await runRollback(contextOf(command), revision, options);
    }));
}

/** The `acl` command group: flags and help; `./acl/` runs and prints, src/policy/ does the work. */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { PRESET_NAMES } from "../policy/presets.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The `Examples:` section of a command's help. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ cloudsignal ${line}`).join("\n")}\n`;
}

const FULL_HELP = "print every change of a long diff (otherwise paged on a terminal, or counted)";

/** Registers `acl get|update|diff|edit|rollback|revisions|validate|simulate|test|init`. */
export function registerAcl(program: Program): void {
  const acl = program
    .command("acl")
    .description("Validate, simulate, test and manage ACL policies");

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
    .option("--json", "print the revision, when it was fetched, the organization and the policy")
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
      examples("acl diff policy.json", "acl diff policy.json --revision 5", "acl diff - --json"),
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
    .addHelpText("after", examples("acl edit", "acl edit --full"))
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
    .addHelpText("after", examples("acl rollback 5", "acl rollback 5 --dry-run"))
    .action(act(async (revision, options, command) => {
      const { runRollback } = await import("./acl/rollback.ts");
      return await runRollback(contextOf(command), revision, options);
    }));
}

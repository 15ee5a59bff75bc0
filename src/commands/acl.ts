/** The `acl` command group: flags and help; the work happens in src/policy/. */

import { Option } from "../cli/vendor/commander.js";
import { act, contextOf, type Program } from "../cli/program.ts";
import { PRESET_NAMES } from "../policy/presets.ts";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Registers `acl validate|simulate|test|init`. */
export function registerAcl(program: Program): void {
  const acl = program
    .command("acl")
    .description("Validate, simulate, test and manage ACL policies");

  acl
    .command("validate")
    .description(
      "Check a policy file: JSON Schema and semantic checks, then the server check. Exit 0 when valid (warnings allowed), 1 when there are errors.",
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("--local-only", "skip the server check (no network)")
    .option("--json", "print the findings as JSON")
    .action(act(async (file, options, command) => {
      const context = contextOf(command);
      const { validateFile } = await import("../policy/validate_run.ts");
      const code = await validateFile(context.io, file, options, null);
      if (!options.localOnly && !options.json) {
        context.io.err(
          "Note: the server check (claims and identities of your organization) needs " +
            "`cloudsignal login`; only the local check ran. Use --local-only to skip it.\n",
        );
      }
      return code;
    }));

  acl
    .command("simulate")
    .description(
      "Decide a hypothetical PUBLISH or SUBSCRIBE with the broker's evaluator and say why.",
    )
    .requiredOption("--policy <file>", "policy JSON file to decide with")
    .requiredOption("--topic <topic>", "topic name (pub) or filter (sub)")
    .addOption(
      new Option("--action <action>", "what the client does").choices(["pub", "sub"])
        .makeOptionMandatory(),
    )
    .option("--username <name>", "MQTT username, without @<org>")
    .option("--client-id <id>", "MQTT client id ({client_id})")
    .option("--org-id <id>", "organization id ({org_id})")
    .option("--org-short-id <id>", "organization short id ({org_short_id})")
    .option("--claim <key=value>", "an identity claim (repeatable)", collect, [] as string[])
    .option("--qos <level>", "requested QoS: 0, 1 or 2 (default 0)")
    .option("--retain", "the publish is retained")
    .option("--json", "print the decision object as JSON")
    .option("--trace", "also show every rule's verdict")
    .option("--exit-status", "exit 3 when the decision is deny")
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { requestFromFlags, simulate, reportDecision } = await import(
        "../policy/simulate.ts"
      );
      const { loadValidPolicy } = await import("../policy/local_policy.ts");
      const request = requestFromFlags(options);
      const loaded = await loadValidPolicy(context.io, options.policy);
      const decision = simulate(loaded.compiled, request);
      return reportDecision(context.io, decision, request, options, loaded.name);
    }));

  acl
    .command("test")
    .description(
      "Run a policy's tests: each failure with its explanation, and the rules no test exercised. Exit 3 when a test fails.",
    )
    .argument("<file>", "policy JSON file (- for stdin)")
    .option("--json", "print the results as JSON")
    .action(act(async (file, options, command) => {
      const context = contextOf(command);
      const { testFile } = await import("../policy/test_run.ts");
      return await testFile(context.io, file, options);
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
    .action(act(async (options, command) => {
      const context = contextOf(command);
      const { initPolicy } = await import("../policy/init.ts");
      return await initPolicy(context.io, options);
    }));
}

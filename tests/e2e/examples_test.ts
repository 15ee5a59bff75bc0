import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;

async function examplePaths(): Promise<string[]> {
  const paths: string[] = [];
  for (const dir of [EXAMPLES, `${EXAMPLES}presets/`]) {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".json")) paths.push(dir + entry.name);
    }
  }
  return paths.sort();
}

Deno.test("every example validates without errors, and its tests pass", async () => {
  const paths = await examplePaths();
  assert.ok(paths.length >= 8, paths.join(", "));
  for (const path of paths) {
    const validate = await runCli(["acl", "validate", path, "--local-only", "--json"]);
    assert.equal(validate.code, 0, `${path}: ${validate.stdout}`);
    const report = JSON.parse(validate.stdout);
    const errors = report.findings.filter((f: { severity: string }) => f.severity === "error");
    assert.deepEqual(errors, [], path);
    const policy = JSON.parse(await Deno.readTextFile(path));
    if (path.startsWith(`${EXAMPLES}presets/`)) {
      assert.ok(policy.tests?.length > 0, `${path}: the README says every preset has tests`);
    }
    if (policy.version !== "2.2") continue;
    const test = await runCli(["acl", "test", path, "--json"]);
    const run = JSON.parse(test.stdout);
    assert.equal(test.code, 0, `${path}: ${test.stdout}`);
    assert.equal(run.failed, 0, path);
    if (policy.tests.length > 0) {
      assert.deepEqual(run.unexercised, [], `${path} has rules no test exercises`);
    }
  }
});

Deno.test("the version 2 inbox example of the CloudSignal docs decides like its 2.2 twin", async () => {
  const cases: [string, Record<string, string>, string, "allow" | "deny"][] = [
    ["/alice@example.com/inbox", { email: "alice@example.com" }, "alice", "allow"],
    ["/bob@example.com/inbox", { email: "alice@example.com" }, "alice", "deny"],
    ["/+/inbox", { email: "+" }, "eve", "deny"],
    ["/alice@example.com/inbox", {}, "alice", "deny"],
  ];
  for (const file of ["email-inbox-v2.json", "email-inbox.json"]) {
    for (const [topic, claims, username, expected] of cases) {
      const args = [
        "acl",
        "simulate",
        "--policy",
        EXAMPLES + file,
        "--username",
        username,
        "--action",
        "sub",
        "--topic",
        topic,
        "--json",
      ];
      for (const [key, value] of Object.entries(claims)) args.push("--claim", `${key}=${value}`);
      const result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        JSON.parse(result.stdout).decision,
        expected,
        `${file} ${topic} ${JSON.stringify(claims)}`,
      );
    }
  }
});

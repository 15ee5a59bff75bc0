import assert from "node:assert/strict";

Deno.test("generated files are current (deno task codegen)", async () => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../scripts/codegen.ts", import.meta.url).pathname, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, output);
  assert.match(output, /generated files are current/);
});

Deno.test("the generated schema validator reports what the schema forbids", async () => {
  const { default: validate } = await import("../../src/acl/generated/policy_schema_validator.js");
  assert.equal(validate({ version: "2.2", default: "deny" }), true);
  assert.equal(validate({ version: "2.2", default: "deny", extra: 1 }), false);
  assert.equal(validate.errors?.[0].keyword, "additionalProperties");
  assert.equal(validate({ version: "2.1", default: "deny", tests: [] }), false);
  assert.equal(
    validate({
      version: "2",
      default: "deny",
      rules: [{ topic: "{$self}", action: "pub", binding: "k" }],
    }),
    false,
  );
});

import assert from "node:assert/strict";
import { editBuffer, problemsOf, readEditBuffer } from "../../src/policy/edit_buffer.ts";
import { checkPolicy, usablePolicy } from "../../src/policy/source.ts";
import { PolicyInvalidError } from "../../src/policy/errors.ts";

const POLICY = '{\n  "$revision": 3,\n  "version": "2.2",\n  "default": "deny"\n}\n';

Deno.test("edit buffer: the comment block is blanked line for line, so places stay true", () => {
  const buffer = editBuffer(POLICY, ["error: rules[0] - x (line 9, column 3)"]);
  assert.match(buffer, /^# Edit the policy below/);
  assert.match(buffer, /^# The last save was not pushed/m);
  assert.match(buffer, /^# {3}error: rules\[0\] - x \(line 9, column 3\)$/m);
  const saved = readEditBuffer(buffer);
  assert.equal(saved.empty, false);
  assert.equal(saved.text.split("\n").length, buffer.split("\n").length);
  assert.equal(saved.text.trimStart(), POLICY);
  assert.deepEqual(JSON.parse(saved.text), JSON.parse(POLICY));
});

Deno.test("edit buffer: only comments left cancels; a # inside the JSON is kept", () => {
  assert.equal(readEditBuffer(editBuffer("")).empty, true);
  assert.equal(readEditBuffer("# a\n\n   \n").empty, true);
  const text = '{"topic": "#"}\n# not a header';
  assert.equal(readEditBuffer(text).text, text);
});

Deno.test("edit buffer: problems name the line the reopened file shows", async () => {
  const invalid = `${"\n".repeat(4)}{\n  "version": "2.2",\n  "default": "maybe"\n}\n`;
  const error = await checkPolicy({ text: invalid }).then(usablePolicy).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof PolicyInvalidError);
  assert.deepEqual(problemsOf(error), [
    'error: default - invalid default "maybe" (must be deny or allow) (line 7, column 14)',
  ]);
  assert.match(problemsOf(error, 3)[0], /\(line 10, column 14\)$/);
});

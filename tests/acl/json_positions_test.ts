import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { JsonSyntaxError, locate, parseJsonWithPositions } from "../../src/acl/json_positions.ts";

function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJsonWithPositions(text);
  } catch (error) {
    assert.ok(error instanceof JsonSyntaxError, String(error));
    return error;
  }
  assert.fail(`parsed: ${text}`);
}

Deno.test("positions of values and keys, 1-based lines and columns", () => {
  const text = '{\n  "rules": [\n    { "topic": "a", "action": "read" }\n  ]\n}\n';
  const { value, positions } = parseJsonWithPositions(text);
  assert.deepEqual(value, { rules: [{ topic: "a", action: "read" }] });
  assert.deepEqual(locate(positions, "/rules/0/action"), { line: 3, column: 31, offset: 45 });
  assert.equal(locate(positions, "/rules/0/action", true).column, 21);
  assert.equal(locate(positions, "/rules/0").column, 5);
  assert.equal(locate(positions, "").line, 1);
  // A pointer past the document gives the deepest part that exists.
  assert.equal(locate(positions, "/rules/7/topic").line, 2);
});

Deno.test("syntax errors say what and where", () => {
  const cases: [string, RegExp, number, number][] = [
    ['{"a": 1', /expected ',' or '}' after the value of "a" but found the end of the file/, 1, 8],
    ['{"a": 1,}', /trailing comma before '}'/, 1, 9],
    ["[1, 2,]", /trailing comma before '\]'/, 1, 7],
    ['{"a" 1}', /expected ':' after the property name "a"/, 1, 6],
    ["{'a': 1}", /expected a property name in double quotes but found '''/, 1, 2],
    ["{\"a\": 'x'}", /single quotes/, 1, 7],
    ['{\n  // note\n  "a": 1}', /comments are not allowed/, 2, 3],
    ['{"a": 01}', /leading zeros/, 1, 7],
    ['{"a": "\\x"}', /invalid escape '\\x'/, 1, 8],
    ['{"a": "line\nbreak"}', /unterminated string: a line ends/, 1, 7],
    ['{"a": "tab\there"}', /control character U\+0009 inside a string must be escaped/, 1, 11],
    ['{"a": "open', /unterminated string: the file ends/, 1, 7],
    ['{"a": tru}', /found "tru" \(JSON words are true, false and null\)/, 1, 7],
    ['{"a": 1} x', /unexpected 'x' after the end of the JSON value/, 1, 10],
    ["", /the file is empty/, 1, 1],
    ["   \n  ", /the file is empty/, 2, 3],
    ['{"a": -}', /expected a digit after '-'/, 1, 8],
    ['{"a": 1.}', /digit after the decimal point/, 1, 9],
    ['{"a": 1e}', /digit in the exponent/, 1, 9],
    ['{"a": "\\u12"}', /four hex digits/, 1, 8],
  ];
  for (const [text, message, line, column] of cases) {
    const error = syntaxError(text);
    assert.match(error.message, message, text);
    assert.deepEqual([error.at.line, error.at.column], [line, column], `${text}: ${error.message}`);
  }
});

Deno.test("nesting deeper than the bound is an error, not a stack overflow", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assert.match(syntaxError(deep).message, /nesting is deeper than 64 levels/);
  assert.doesNotThrow(() => parseJsonWithPositions("[".repeat(64) + "]".repeat(64)));
});

Deno.test("a byte order mark is accepted; duplicate keys are reported", () => {
  const parsed = parseJsonWithPositions('\ufeff{"a": 1, "b": {"c": 1, "c": 2}}');
  assert.deepEqual(parsed.value, { a: 1, b: { c: 2 } });
  assert.equal(parsed.duplicateKeys.length, 1);
  assert.equal(parsed.duplicateKeys[0].pointer, "/b/c");
  assert.equal(parsed.duplicateKeys[0].at.column, 24);
});

Deno.test("__proto__ keys are data, not prototypes", () => {
  const { value } = parseJsonWithPositions('{"__proto__": {"polluted": true}, "a/b~": 1}');
  const object = value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(object), Object.prototype);
  assert.deepEqual(Object.keys(object), ["__proto__", "a/b~"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("property: parses what JSON.parse parses, to the same value", () => {
  fc.assert(
    fc.property(fc.json({ depthSize: "small" }), fc.constantFrom(0, 2, "\t"), (json, indent) => {
      const text = JSON.stringify(JSON.parse(json), null, indent);
      assert.deepEqual(parseJsonWithPositions(text).value, JSON.parse(text));
    }),
    { numRuns: 2000, seed: 1 },
  );
});

Deno.test("property: rejects exactly what JSON.parse rejects (truncations and edits)", () => {
  fc.assert(
    fc.property(
      fc.json({ depthSize: "small" }),
      fc.nat(),
      fc.constantFrom("", ",", "}", "]", ":", '"', "\\", "x", "0", " ", "\n"),
      (json, cut, insert) => {
        const at = json.length === 0 ? 0 : cut % json.length;
        const text = json.slice(0, at) + insert + json.slice(at + (insert === "" ? 1 : 0));
        let expected = true;
        try {
          JSON.parse(text);
        } catch {
          expected = false;
        }
        let actual = true;
        try {
          parseJsonWithPositions(text, 10_000);
        } catch (error) {
          assert.ok(error instanceof JsonSyntaxError, String(error));
          actual = false;
        }
        assert.equal(actual, expected, JSON.stringify(text));
      },
    ),
    { numRuns: 3000, seed: 2 },
  );
});

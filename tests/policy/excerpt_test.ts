import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { excerptLines } from "../../src/policy/excerpt.ts";
import { findingLines, validationReport } from "../../src/policy/report.ts";
import { validatePolicyText } from "../../src/acl/validate.ts";
import { PLAIN } from "../../src/core/text_style.ts";

Deno.test("excerpt: a short line whole, with the caret under the column", () => {
  assert.deepEqual(excerptLines('a\n  "acton": "sub"\n', 2, 3), ['  "acton": "sub"', "  ^"]);
});

Deno.test("excerpt: a long line is cut around the place, with … where it was cut", () => {
  const line = `${"x".repeat(600)}"acton"${"y".repeat(600)}`;
  const [window, caret] = excerptLines(line, 1, 601)!;
  assert.ok(window.startsWith("…") && window.endsWith("…"));
  assert.ok(window.length <= 74);
  assert.equal(window[caret.indexOf("^")], '"');
  assert.equal(window.slice(caret.indexOf("^"), caret.indexOf("^") + 7), '"acton"');
  const [start] = excerptLines(line, 1, 1)!;
  assert.ok(!start.startsWith("…") && start.endsWith("…"));
  const [end, endCaret] = excerptLines(line, 1, line.length + 1)!;
  assert.ok(end.startsWith("…") && !end.endsWith("…"));
  assert.equal(endCaret.indexOf("^"), end.length, "past the end: just after the last character");
});

Deno.test("excerpt: tabs and control characters take one column each and never reach the terminal", () => {
  const [window, caret] = excerptLines('\t"a\u001b[31m": 1', 1, 9)!;
  // deno-lint-ignore no-control-regex -- control characters are what must be absent
  assert.doesNotMatch(window, /[\u0000-\u001f]/);
  assert.equal(window.length, '\t"a\u001b[31m": 1'.length);
  assert.equal(caret, "        ^");
  assert.equal(excerptLines("x", 3, 1), null, "a line the text does not have");
});

Deno.test("excerpt: the caret is always under the character the column names", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom("a", "{", '"', " ", ":"), maxLength: 400 }),
      fc.nat(),
      (line, pick) => {
        const column = line.length === 0 ? 1 : (pick % line.length) + 1;
        const [window, caret] = excerptLines(line, 1, column)!;
        assert.ok(window.length <= 74);
        const at = caret.length - 1;
        if (line.length > 0) assert.equal(window[at], line[column - 1]);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("a finding in a one-line policy shows the offending text, not only policy.json:1:643", () => {
  const rules = Array.from({ length: 20 }, (_, k) => ({ topic: `t/${k}`, action: "pub" }));
  const text = JSON.stringify({
    version: "2.2",
    default: "deny",
    rules: [...rules, { topic: "a/b", acton: "sub" }],
  });
  const { findings, counts } = validatePolicyText(text);
  const report = validationReport("policy.json", findings, counts, PLAIN, { text });
  const lines = report.split("\n");
  const at = lines.findIndex((line) => /unknown field "acton"/.test(line)) + 1;
  assert.match(lines[at], /^ {4}at policy\.json:1:\d{3}$/, report);
  const [window, caret] = [lines[at + 1], lines[at + 2]];
  assert.ok(window.startsWith("    …"), window);
  assert.equal(window.slice(caret.indexOf("^"), caret.indexOf("^") + 7), '"acton"');
  assert.deepEqual(
    findingLines("policy.json", { ...findings[0], line: undefined }, text, PLAIN),
    [findingLines("policy.json", findings[0], text, PLAIN)[0]],
    "no place, no excerpt",
  );
});

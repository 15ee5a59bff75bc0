/**
 * Server text on a terminal: `printable` and `quoted` never pass control, bidi or invisible
 * characters through, and `quoted` keeps the JSON value exactly. Checked with generated
 * strings that mix such characters into ordinary and astral text.
 */

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { escapeJsonText, printable, quoted } from "../../src/core/printable.ts";

/** Characters that must never reach a terminal raw, listed by hand (not from the module). */
const DANGEROUS = [
  ...Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)),
  ...Array.from({ length: 33 }, (_, at) => String.fromCharCode(0x7f + at)),
  "\u00ad",
  "\u061c",
  "\u180e",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u200e",
  "\u200f",
  "\u2028",
  "\u2029",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2060",
  "\u2061",
  "\u2062",
  "\u2063",
  "\u2064",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\ufeff",
  "\ufff9",
  "\ufffa",
  "\ufffb",
  "\u{e0001}",
  "\u{e0041}",
  "\u{e007f}",
];
const RAW = new RegExp(
  `[${
    DANGEROUS.filter((c) => c !== "\t" && c !== "\n").map((c) =>
      `\\u{${c.codePointAt(0)!.toString(16)}}`
    ).join("")
  }]`,
  "u",
);

const text = fc.array(
  fc.oneof(
    fc.constantFrom(...DANGEROUS),
    fc.string({ unit: "grapheme", maxLength: 4 }),
    fc.constantFrom("a", "é", "中", "😀", "/", " ", '"', "\\"),
  ),
  { maxLength: 24 },
).map((parts) => parts.join(""));

Deno.test("printable: no control, bidi or invisible character survives, in any mix", () => {
  fc.assert(
    fc.property(text, (input) => {
      const out = printable(input, 10_000);
      assert.doesNotMatch(out, RAW);
      assert.doesNotMatch(out, /[\t\n]/);
    }),
    { numRuns: 2000 },
  );
  assert.equal(printable("pay\u202Etxt.exe"), "pay txt.exe");
  assert.equal(printable("ali\u200Bce@example.com"), "ali ce@example.com");
  assert.equal(printable("\u2066admin\u2069"), "admin");
});

Deno.test("quoted: the same JSON value, with every unsafe character as an escape", () => {
  fc.assert(
    fc.property(text, fc.string(), (value, key) => {
      const json = quoted({ [key]: value, list: [value] });
      assert.doesNotMatch(json, RAW);
      assert.deepEqual(JSON.parse(json), { [key]: value, list: [value] });
    }),
    { numRuns: 2000 },
  );
  assert.equal(quoted("a\u202Eb"), '"a\\u202eb"');
  assert.equal(quoted("\u{e0041}"), '"\\udb40\\udc41"');
});

Deno.test("escapeJsonText keeps formatted JSON formatted", () => {
  const value = { description: "\u202Eevil\u2028", n: [1, 2] };
  const pretty = escapeJsonText(JSON.stringify(value, null, 2));
  assert.equal(pretty.split("\n").length, 7);
  assert.deepEqual(JSON.parse(pretty), value);
  assert.doesNotMatch(pretty, RAW);
});

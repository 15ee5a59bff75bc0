import assert from "node:assert/strict";
import {
  canonical,
  decisionChanges,
  diffPolicies,
  formatDiff,
  summarizeDiff,
} from "../../src/policy/diff.ts";
import type { Policy } from "../../src/acl/types.ts";
import { paletteFor } from "../../src/cli/io.ts";

const plain = paletteFor(false, true);
const base: Policy = {
  version: "2.2",
  default: "deny",
  rules: [
    { topic: "a/#", action: "sub" },
    { topic: "b", action: "pub" },
    { topic: "c", action: "pub", qos: [0] },
  ],
};

Deno.test("canonical JSON ignores key order and undefined members", () => {
  assert.equal(canonical({ b: 1, a: [2, { d: 1, c: undefined }] }), '{"a":[2,{"d":1}],"b":1}');
});

Deno.test("identical policies, and ones that differ only by order", () => {
  assert.equal(diffPolicies(base, structuredClone(base)).identical, true);
  const reordered = { ...base, rules: [...base.rules!].reverse() };
  const diff = diffPolicies(base, reordered);
  assert.equal(diff.identical, false);
  assert.equal(diff.reordered_only, true);
  assert.match(
    formatDiff(diff, [], plain),
    /only the order of entries differs; decisions cannot change/,
  );
});

Deno.test("added, removed and changed rules, fields and tests", () => {
  const next: Policy = {
    version: "2.2",
    default: "allow",
    rules: [
      { topic: "c", action: "pub", qos: [0, 1] },
      { topic: "a/#", action: "sub" },
      { topic: "d", action: "sub" },
    ],
    tests: [{ name: "t", client: { username: "u" }, action: "pub", topic: "b", expect: "allow" }],
  };
  const diff = diffPolicies(base, next);
  assert.deepEqual(diff.fields, [{ field: "default", from: "deny", to: "allow" }]);
  const rules = diff.sections.find((section) => section.section === "rules")!;
  assert.deepEqual(rules.removed.map((element) => element.value.topic), ["b"]);
  assert.deepEqual(rules.added.map((element) => element.value.topic), ["d"]);
  assert.equal(rules.changed.length, 1);
  assert.deepEqual(rules.changed[0].fields, ["qos"]);
  assert.deepEqual(diff.tests.added, ["t"]);
  const text = formatDiff(diff, decisionChanges(base, next), plain);
  assert.match(text, /~ default: "deny" → "allow"/);
  assert.match(text, /- rules\[1\] \{"action":"pub","topic":"b"\}/);
  assert.match(text, /\+ rules\[2\] \{"action":"sub","topic":"d"\}/);
  assert.match(text, /~ rules\[2\] → \[0\] qos: \[0\] → \[0,1\]/);
  assert.match(text, /tests added: t/);
  assert.match(
    text,
    /No test decision changes\.\n$/,
    "t is allowed by rule b, then by the new default",
  );
});

Deno.test("decision changes use the tests of both policies", () => {
  const next: Policy = {
    ...base,
    rules: [{ topic: "a/#", action: "sub" }],
    tests: [{
      name: "publish b",
      client: { username: "u" },
      action: "pub",
      topic: "b",
      expect: "deny",
    }],
  };
  const live: Policy = {
    ...base,
    tests: [{
      name: "subscribe a",
      client: { username: "u" },
      action: "sub",
      topic: "a/x",
      expect: "allow",
    }],
  };
  assert.deepEqual(decisionChanges(live, next), [{ name: "publish b", from: "allow", to: "deny" }]);
  assert.equal(
    decisionChanges(
      { version: "2.2", default: "deny", rules: [{ topic: "a/#/b", action: "pub" }] },
      next,
    ),
    null,
  );
});

Deno.test("a long diff summarised as counts", () => {
  const next: Policy = {
    ...base,
    description: "more",
    rules: [
      ...base.rules!.slice(1),
      ...Array.from({ length: 1200 }, (_, k) => ({ topic: `n/${k}`, action: "pub" as const })),
    ],
    tests: [{
      name: "t",
      client: { username: "u" },
      action: "pub",
      topic: "n/1",
      expect: "allow",
    }],
  };
  assert.equal(
    summarizeDiff(diffPolicies(base, next), decisionChanges(base, next)),
    [
      "  fields changed: description",
      "  rules: 1,200 added, 1 removed",
      "  tests: 1 added",
      "  test decisions that change: 1",
      "",
    ].join("\n"),
  );
  assert.match(summarizeDiff(diffPolicies(base, next), null), /test decisions: not compared/);
});

import assert from "node:assert/strict";
import { compilePolicy } from "../../src/acl/compile.ts";
import { PUB, SUB } from "../../src/acl/action_bits.ts";
import { FLAG_BITS } from "../../src/acl/rule_flags.ts";
import { scanTopic, TopicView } from "../../src/acl/topic_view.ts";
import type { Policy, Rule } from "../../src/acl/types.ts";

/** The ids of the rules the index finds for a request (duplicates kept, sorted). */
function candidates(policy: Policy, action: "pub" | "sub", username: string, topic: string) {
  const compiled = compilePolicy(policy);
  const view = new TopicView();
  assert.ok(scanTopic(view, topic, action === "pub" ? "name" : "filter"), topic);
  const out: number[] = [];
  const bit = action === "pub" ? PUB : SUB;
  compiled.index.candidates(bit, username, view, out);
  const records = compiled.index.records(bit);
  return out.map((at) => records[at] >> FLAG_BITS).sort((a, b) => a - b);
}

const policyOf = (rules: Rule[]): Policy => ({ version: "2.2", default: "deny", rules });

// Siblings that share their length and first unit (the scan key) and differ later, odd and
// long texts, non-ASCII units and a surrogate pair, and the empty level.
const TEXTS = [
  "dev-00",
  "dev-01",
  "dev-10",
  "dev-11",
  "a",
  "",
  "abcdefghijklmnopq",
  "abcdefghijklmnopr",
  "abcdefghijklmnop",
  "héllo",
  "hello",
  "😀x",
  "😁x",
];

for (const count of [2, 8, 9, TEXTS.length]) {
  const texts = TEXTS.slice(0, count);
  const shape = count <= 8 ? "scanned" : "hashed";
  Deno.test(`index: ${count} literal siblings (${shape}) find exactly their own rule`, () => {
    const policy = policyOf(texts.map((text) => ({ topic: `t/${text}/x`, action: "pub" })));
    texts.forEach((text, id) => {
      assert.deepEqual(candidates(policy, "pub", "u", `t/${text}/x`), [id], text);
    });
    for (
      const missing of ["dev-02", "dev-0", "dev-000", "b", "abcdefghijklmnopz", "hallo", "😂x"]
    ) {
      assert.deepEqual(candidates(policy, "pub", "u", `t/${missing}/x`), [], missing);
    }
  });
}

Deno.test("index: a table of many siblings under `+`, a template and `#`", () => {
  const rules: Rule[] = [];
  for (let i = 0; i < 300; i++) rules.push({ topic: `org/o${i}/status`, action: "pub" });
  rules.push({ topic: "org/+/status", action: "sub" });
  rules.push({ topic: "org/{$self}/#", action: "pub+sub", binding: "k" });
  rules.push({ topic: "org/o7/#", action: "pub" });
  const policy = policyOf(rules);
  assert.deepEqual(candidates(policy, "pub", "u", "org/o7/status"), [7, 301, 302]);
  assert.deepEqual(candidates(policy, "pub", "u", "org/o299/status"), [299, 301]);
  assert.deepEqual(candidates(policy, "pub", "u", "org/o300/status"), [301]);
  assert.deepEqual(candidates(policy, "sub", "u", "org/o12/status"), [300, 301]);
  assert.deepEqual(candidates(policy, "sub", "u", "org/+/status"), [300]);
});

Deno.test("index: selectors pick their tries; rule lists sit with their nodes", () => {
  const policy = policyOf([
    { topic: "a/b", action: "pub", user: "dev-1" },
    { topic: "a/b", action: "pub", user: "dev-*" },
    { topic: "a/b", action: "pub" },
    { topic: "a/#", action: "pub", user: "dev-1" },
    { topic: "a/b", action: "pub", effect: "deny", user: "other" },
  ]);
  assert.deepEqual(candidates(policy, "pub", "dev-1", "a/b"), [0, 1, 2, 3]);
  assert.deepEqual(candidates(policy, "pub", "dev-2", "a/b"), [1, 2]);
  assert.deepEqual(candidates(policy, "pub", "x", "a/b"), [2]);
  assert.deepEqual(candidates(policy, "pub", "dev-1", "a"), [3]);
  assert.deepEqual(candidates(policy, "sub", "dev-1", "a/b"), []);
});

Deno.test("index: a chain of single children is one edge that matches whole levels only", () => {
  const policy = policyOf([
    { topic: "a/b/c/d", action: "pub+sub", user: "u1" },
    { topic: "a/b/c/+", action: "sub", user: "u2" },
    { topic: "a/b/c/d/e/f", action: "pub", user: "u2" },
    { topic: "a/b/c/d", action: "pub", user: "u2" },
  ]);
  assert.deepEqual(candidates(policy, "pub", "u1", "a/b/c/d"), [0]);
  for (const miss of ["a/b/c", "a/b/c/d/e", "a/b/x/d", "a/bb/c/d", "a/b/c/dd", "a/b/c/d/"]) {
    assert.deepEqual(candidates(policy, "pub", "u1", miss), [], miss);
  }
  for (const miss of ["a/+/c/d", "a/b/#", "a/b/c/+", "+/b/c/d", "#"]) {
    assert.deepEqual(candidates(policy, "sub", "u1", miss), [], miss);
  }
  assert.deepEqual(candidates(policy, "sub", "u1", "a/b/c/d"), [0]);
  assert.deepEqual(candidates(policy, "sub", "u2", "a/b/c/z"), [1]);
  assert.deepEqual(candidates(policy, "pub", "u2", "a/b/c/d/e/f"), [2]);
  assert.deepEqual(candidates(policy, "pub", "u2", "a/b/c/d"), [3]);
  assert.deepEqual(candidates(policy, "pub", "u2", "a/b/c/d/e"), []);
});

Deno.test("index: containment follows chained edges only through literal levels", () => {
  const compiled = compilePolicy(policyOf([
    { topic: "x/y/z/w", action: "pub", user: "u1" },
    { topic: "x/+/z/w", action: "pub", user: "u1" },
    { topic: "x/{$self}/z/w", action: "pub", user: "u1", binding: "k" },
    { topic: "x/y/#", action: "pub", user: "u1" },
    { topic: "x/y/z", action: "pub", user: "u1" },
  ]));
  const containing = (id: number) => {
    const out: { id: number }[] = [];
    compiled.index.containing(compiled.rules[id], PUB, out as never);
    return out.map((rule) => rule.id).sort((a, b) => a - b);
  };
  assert.deepEqual(containing(0), [0, 1, 2, 3]);
  assert.deepEqual(containing(1), [1]);
  assert.deepEqual(containing(2), [1, 2]);
  assert.deepEqual(containing(4), [3, 4]);
});

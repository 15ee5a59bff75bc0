import assert from "node:assert/strict";
import {
  filterContains,
  filterMatchesTopic,
  parseSharedSubscription,
  topicError,
  utf8Length,
} from "../../src/acl/topic.ts";

Deno.test("topic names: valid forms", () => {
  for (const name of ["a", "a/b/c", "/", "/a", "a/", "a//b", "$SYS/broker", "ünï/cødé", "🚀/x"]) {
    assert.equal(topicError(name, "name"), null, name);
  }
});

Deno.test("topic names: wildcards, empty, NUL are refused with a reason", () => {
  assert.match(topicError("", "name")!, /empty/);
  assert.match(topicError("a/+/b", "name")!, /cannot contain '\+'.*level 2/);
  assert.match(topicError("a/#", "name")!, /cannot contain '#'/);
  assert.match(topicError("a/b+c", "name")!, /cannot contain '\+'/);
  assert.match(topicError("a\u0000b", "name")!, /NUL.*character 2/);
});

Deno.test("topic filters: wildcard placement", () => {
  for (const filter of ["#", "+", "+/+", "a/+/b", "a/#", "/#", "+/#", "$SYS/#", "a//+"]) {
    assert.equal(topicError(filter, "filter"), null, filter);
  }
  assert.match(topicError("a/#/b", "filter")!, /'#' must be the last level \(it is level 2 of 3\)/);
  assert.match(topicError("a/b#", "filter")!, /'#' must occupy a whole level/);
  assert.match(topicError("a/+b", "filter")!, /'\+' must occupy a whole level \(level 2/);
  assert.match(topicError("##", "filter")!, /whole level/);
});

Deno.test("topics: UTF-8 well-formedness and the 65,535 byte limit", () => {
  assert.match(topicError("a\ud800b", "name")!, /not valid UTF-8/);
  assert.equal(topicError("x".repeat(65_535), "name"), null);
  assert.match(topicError("x".repeat(65_536), "name")!, /65536 bytes.*65,535/);
  // 21,846 three-byte characters are 65,538 bytes although only 21,846 UTF-16 units.
  assert.match(topicError("€".repeat(21_846), "name")!, /65538 bytes/);
  assert.equal(utf8Length("a€🚀"), 1 + 3 + 4);
  // MQTT sets no limit on the number of levels.
  assert.equal(topicError("a/".repeat(10_000) + "b", "name"), null);
});

Deno.test("shared subscriptions", () => {
  assert.deepEqual(parseSharedSubscription("$share/g/a/+"), { group: "g", filter: "a/+" });
  assert.deepEqual(parseSharedSubscription("a/b"), { group: null, filter: "a/b" });
  assert.match((parseSharedSubscription("$share/g") as { error: string }).error, /form/);
  assert.match((parseSharedSubscription("$share//a") as { error: string }).error, /empty/);
  assert.match((parseSharedSubscription("$share/g+/a") as { error: string }).error, /cannot/);
});

Deno.test("matching: wildcards and the parent level", () => {
  const yes: [string, string][] = [
    ["#", "a"],
    ["#", "a/b/c"],
    ["#", "/"],
    ["a/#", "a"],
    ["a/#", "a/b/c"],
    ["a/+", "a/b"],
    ["a/+", "a/"],
    ["+/+", "/finance"],
    ["/+", "/finance"],
    ["+", "a"],
    ["a//b", "a//b"],
    ["$SYS/#", "$SYS/broker"],
    ["$SYS/+", "$SYS/x"],
  ];
  const no: [string, string][] = [
    ["a/+", "a"],
    ["a/+", "a/b/c"],
    ["+", "/finance"],
    ["A", "a"],
    ["a", "a/"],
    ["#", "$SYS/x"],
    ["+/x", "$SYS/x"],
    ["+/#", "$x"],
    ["a/b", "a//b"],
  ];
  for (const [filter, name] of yes) {
    assert.ok(filterMatchesTopic(filter, name), `${filter} ~ ${name}`);
  }
  for (const [filter, name] of no) {
    assert.ok(!filterMatchesTopic(filter, name), `${filter} !~ ${name}`);
  }
});

Deno.test("containment: the rule must match every topic the filter can", () => {
  const yes: [string, string][] = [
    ["agents/#", "agents/+/card"],
    ["agents/#", "agents/#"],
    ["agents/#", "agents"],
    ["#", "#"],
    ["#", "+/#"],
    ["+/#", "#"],
    ["+/#", "+"],
    ["a/+", "a/b"],
    ["a/+/c", "a/+/c"],
    ["$SYS/#", "$SYS/+"],
  ];
  const no: [string, string][] = [
    ["agents/+/card", "agents/#"],
    ["a/+/#", "a/#"],
    ["a/b", "a/+"],
    ["+", "#"],
    ["+/+/#", "#"],
    ["#", "$SYS/#"],
    ["+/#", "$SYS/x"],
    ["a/#", "b/#"],
  ];
  for (const [outer, inner] of yes) assert.ok(filterContains(outer, inner), `${outer} ⊇ ${inner}`);
  for (const [outer, inner] of no) assert.ok(!filterContains(outer, inner), `${outer} ⊉ ${inner}`);
});

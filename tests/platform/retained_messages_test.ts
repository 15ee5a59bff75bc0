import assert from "node:assert/strict";
import { organizationPrefix, RetainedMessages } from "../../src/platform/retained_messages.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("retained messages are kept per organization and matched as MQTT filters", () => {
  const retained = new RetainedMessages();
  retained.store("ours/", { topic: "a/b", payload: bytes("ours"), qos: 1 });
  retained.store("ours/", { topic: "$SYS/x", payload: bytes("sys"), qos: 0 });
  retained.store("theirs/", { topic: "a/b", payload: bytes("theirs"), qos: 2 });
  const topics = (prefix: string, filter: string) =>
    [...retained.matching(prefix, filter)].map((m) =>
      `${m.topic}=${new TextDecoder().decode(m.payload)}`
    );
  assert.deepEqual(topics("ours/", "a/b"), ["a/b=ours"]);
  assert.deepEqual(topics("ours/", "#"), ["a/b=ours"], "# does not match $ topics");
  assert.deepEqual(topics("ours/", "$SYS/#"), ["$SYS/x=sys"]);
  assert.deepEqual(topics("ours/", "a/+/#"), ["a/b=ours"], "# matches the parent level");
  assert.deepEqual(topics("theirs/", "+/b"), ["a/b=theirs"]);
  assert.deepEqual(topics("nobody/", "#"), []);
  retained.store("ours/", { topic: "a/b", payload: new Uint8Array(), qos: 0 });
  assert.deepEqual(topics("ours/", "a/b"), [], "an empty payload deletes");
  assert.equal(retained.count("ours/"), 1);
  assert.equal(retained.count("theirs/"), 1);
});

Deno.test("organizationPrefix reads the namespace of a client id", () => {
  assert.equal(organizationPrefix("kgo5a2ph/dev-1"), "kgo5a2ph/");
  assert.equal(organizationPrefix("kgo5a2ph/a/b"), "kgo5a2ph/");
  assert.equal(organizationPrefix(undefined), null);
  assert.equal(organizationPrefix("no-namespace"), null);
  assert.equal(organizationPrefix("/leading"), null);
});

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import {
  compilePolicy,
  evaluate,
  MAX_TOPIC_LEVELS,
  platformNotes,
  ruleLevelLimitError,
  topicLevelCount,
  validatePolicyDocument,
} from "../../src/acl/mod.ts";
import type { AclRequest, Policy } from "../../src/acl/mod.ts";

const allowAll = compilePolicy({ version: "2.2", default: "allow" });
/** Over the small-policy scan's limit, so the index decides. */
const allowAllIndexed = compilePolicy({
  version: "2.2",
  default: "allow",
  rules: Array.from({ length: 40 }, (_, i) => ({ topic: `unused/${i}/#`, action: "pub" as const })),
});
const client = { username: "dev" };

function topicOf(levels: number, last = "x"): string {
  return [...Array.from({ length: levels - 1 }, (_, i) => `l${i}`), last].join("/");
}

Deno.test("topicLevelCount counts empty levels too", () => {
  assert.equal(topicLevelCount("a"), 1);
  assert.equal(topicLevelCount("/"), 2);
  assert.equal(topicLevelCount("a//b/"), 4);
});

Deno.test("requests deeper than 100 levels are denied as invalid_topic, whatever the policy", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 160 }),
      fc.constantFrom<"pub" | "sub">("pub", "sub"),
      fc.constantFrom("x", "+", "#", ""),
      (levels, action, last) => {
        const wildcard = last === "+" || last === "#";
        const topic = topicOf(levels, (action === "pub" && wildcard) || levels === 1 ? "x" : last);
        for (const policy of [allowAll, allowAllIndexed]) {
          const decision = evaluate(policy, { client, action, topic, qos: 1 });
          if (levels > MAX_TOPIC_LEVELS) {
            assert.equal(decision.decision, "deny");
            assert.equal(decision.reason, "invalid_topic");
            assert.equal(
              decision.detail,
              `topic has ${levels} levels; CloudSignal allows at most ${MAX_TOPIC_LEVELS}`,
            );
          } else {
            assert.equal(decision.decision, "allow", topic);
          }
        }
      },
    ),
  );
});

Deno.test("empty levels count: 100 slashes are 101 levels, on both evaluation paths", () => {
  for (const policy of [allowAll, allowAllIndexed]) {
    const deep = evaluate(policy, { client, action: "pub", topic: "/".repeat(100) });
    assert.equal(deep.reason, "invalid_topic");
    assert.equal(
      evaluate(policy, { client, action: "pub", topic: "/".repeat(99) }).decision,
      "allow",
    );
  }
});

Deno.test("a shared subscription is limited by the levels of its filter", () => {
  const request = (levels: number): AclRequest => ({
    client,
    action: "sub",
    topic: `$share/group/${topicOf(levels)}`,
  });
  assert.equal(evaluate(allowAll, request(100)).decision, "allow");
  assert.equal(evaluate(allowAll, request(101)).reason, "invalid_topic");
});

Deno.test("validate warns about a rule that can match no topic within the limit", () => {
  const policy = (topic: string): Policy => ({
    version: "2.2",
    default: "deny",
    global: [{ topic, action: "pub+sub" }],
  });
  const warnings = (topic: string) =>
    validatePolicyDocument(policy(topic)).findings.filter((finding) =>
      finding.code === "topic_over_level_limit"
    );
  assert.deepEqual(warnings(topicOf(100)), []);
  assert.deepEqual(warnings(topicOf(101, "#")), [], "l0/…/l99/# still matches l0/…/l99");
  const [finding, ...more] = warnings(topicOf(101));
  assert.deepEqual(more, []);
  assert.equal(finding.severity, "warning");
  assert.equal(finding.pointer, "/global/0/topic");
  assert.match(finding.message, /matches only topics of 101 levels or more/);
  assert.equal(validatePolicyDocument(policy(topicOf(150))).valid, true, "a warning, not an error");
  assert.match(ruleLevelLimitError(topicOf(102, "#"))!, /topics of 101 levels or more/);
});

Deno.test("platform notes: $share, aedes control topics, $SYS subscriptions", () => {
  const codes = (action: "pub" | "sub", topic: string) =>
    platformNotes({ action, topic }).map((note) => note.code);
  assert.deepEqual(codes("sub", "$share/g1/sh/x"), ["shared_subscription_refused"]);
  assert.deepEqual(codes("pub", "$SYS/x/heartbeat"), ["broker_control_topic"]);
  assert.deepEqual(codes("pub", "$SYS//new/clients"), ["broker_control_topic"]);
  assert.deepEqual(codes("pub", "$SYS/app/status"), []);
  assert.deepEqual(codes("sub", "$SYS/#"), ["broker_sys_messages"]);
  assert.deepEqual(codes("sub", "sh/x"), []);
  assert.deepEqual(codes("pub", "$share/g1/sh/x"), []);
});

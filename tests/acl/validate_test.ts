import assert from "node:assert/strict";
import { validatePolicyDocument, validatePolicyText } from "../../src/acl/validate.ts";
import { formatFinding } from "../../src/acl/findings.ts";
import type { Finding } from "../../src/acl/types.ts";

function findings(document: unknown): Finding[] {
  return validatePolicyDocument(document).findings;
}

function codes(document: unknown): string[] {
  return findings(document).map((finding) => finding.code);
}

function only(document: unknown, code: string): Finding {
  const matching = findings(document).filter((finding) => finding.code === code);
  assert.equal(matching.length, 1, `${code} in ${JSON.stringify(findings(document), null, 1)}`);
  return matching[0];
}

const base = { version: "2.2", default: "deny" };

Deno.test("the documented error line for an invalid action", () => {
  const text = JSON.stringify(
    { ...base, global: [{ topic: "a", action: "read" }], rules: [] },
    null,
    2,
  );
  const result = validatePolicyText(text);
  assert.equal(result.valid, false);
  const finding = result.findings.find((f) => f.code === "invalid_action")!;
  assert.equal(
    formatFinding(finding),
    '  error: global[0] - invalid action "read" (must be sub, pub, or pub+sub)',
  );
  assert.equal(finding.pointer, "/global/0/action");
  assert.deepEqual([finding.line, finding.column], [7, 17]);
});

Deno.test("the documented warning line for a channel without require_grant", () => {
  const document = {
    ...base,
    rules: [
      { topic: "a/{$self}", action: "sub", binding: "id" },
      { topic: "chat/{channel}/#", action: "sub" },
    ],
  };
  const finding = only(document, "channel_without_require_grant");
  assert.equal(
    formatFinding(finding),
    "  warning: rules[1] - channel binding without require_grant",
  );
  assert.equal(validatePolicyDocument(document).valid, true);
});

Deno.test("required fields, types, and unknown fields with a suggestion", () => {
  assert.match(
    only({ version: "2.2" }, "missing_field").message,
    /missing required field "default"/,
  );
  assert.match(
    only({ ...base, rules: [{ topic: 5, action: "pub" }] }, "wrong_type").message,
    /"topic" must be a string, not the number 5/,
  );
  assert.match(
    only({ ...base, rules: {} }, "wrong_type").message,
    /"rules" must be an array, not an object/,
  );
  assert.match(only([], "wrong_type").message, /the policy must be a JSON object, not an array/);
  const typo = only(
    { ...base, rules: [{ topic: "a", action: "pub", efect: "deny" }] },
    "unknown_field",
  );
  assert.equal(typo.message, 'unknown field "efect" (did you mean "effect"?)');
  assert.equal(typo.pointer, "/rules/0/efect");
  assert.match(only({ ...base, rulez: [] }, "unknown_field").message, /did you mean "rules"/);
});

Deno.test("version: quoted string, supported values, and version-gated features", () => {
  assert.equal(
    only({ version: 2.2, default: "deny" }, "version_not_string").message,
    'version must be a quoted string: "2.2" (found the number 2.2)',
  );
  assert.match(
    only({ version: "3", default: "deny" }, "invalid_version").message,
    /must be "2", "2.1" or "2.2"/,
  );
  const effect = only({
    version: "2.1",
    default: "deny",
    rules: [{ topic: "a", action: "pub", effect: "deny" }],
  }, "requires_version");
  assert.equal(effect.message, '"effect" needs version "2.2" (this policy is version "2.1")');
  assert.equal(effect.pointer, "/rules/0/effect");
  only({ version: "2.1", default: "deny", tests: [] }, "requires_version");
  only(
    { version: "2", default: "deny", publishers: [{ identity: "a", topics: ["x"], qos: [0] }] },
    "requires_version",
  );
  const self = only({
    version: "2",
    default: "deny",
    rules: [{ topic: "a/{$self}", action: "pub", binding: "k" }],
  }, "requires_version");
  assert.match(
    self.message,
    /\{\$self\} placeholders need version "2.1" or later \(this policy is version "2"\)/,
  );
  only(
    { version: "2", default: "deny", rules: [{ topic: "a/{$self.k}", action: "pub" }] },
    "requires_version",
  );
  assert.deepEqual(
    codes({ version: "2.1", default: "deny", rules: [{ topic: "a/{$self.k}", action: "pub" }] }),
    [],
  );
});

Deno.test("{$self} without binding is one error; require_grant needs binding", () => {
  const missing = only(
    { ...base, rules: [{ topic: "agents/{$self}/card", action: "pub" }] },
    "binding_required",
  );
  assert.equal(missing.message, '{$self} needs "binding": the name of the claim it resolves to');
  assert.equal(
    findings({ ...base, rules: [{ topic: "agents/{$self}/card", action: "pub" }] }).length,
    1,
  );
  only(
    { ...base, rules: [{ topic: "c/{x}", action: "sub", require_grant: true }] },
    "require_grant_without_binding",
  );
});

Deno.test("placeholder syntax errors name the placeholder", () => {
  const cases: [string, string, RegExp][] = [
    ["a/{$self", "placeholder_syntax", /unbalanced "\{" in level 2 \("\{\$self"\): missing "\}"/],
    ["a/$self}", "placeholder_syntax", /unbalanced "\}"/],
    ["a/{{x}}", "placeholder_syntax", /nested "\{"/],
    ["a/{}", "placeholder_syntax", /empty placeholder/],
    ["a/{$self.}", "placeholder_syntax", /names no claim: write \{\$self\.<claim>\}/],
    ["a/{$self.1x}", "placeholder_syntax", /not a valid claim name/],
    ["a/{$sel}", "unknown_placeholder", /unknown placeholder \{\$sel\}/],
    ["a/{bad name}", "placeholder_syntax", /invalid placeholder \{bad name\}/],
    ["a/{x}+", "invalid_topic", /'\+' must occupy a whole level/],
    ["{a}/{a}", "channel_conflict", /\{a\} appears in more than one level/],
    ["{a}-{b}", "channel_conflict", /holds 2 channel placeholders/],
  ];
  for (const [topic, code, message] of cases) {
    const finding = only({ ...base, rules: [{ topic, action: "sub", binding: "k" }] }, code);
    assert.match(finding.message, message, topic);
    assert.ok(finding.message.includes(`"${topic}"`), finding.message);
  }
  only(
    { ...base, rules: [{ topic: "a/{username}", action: "pub", binding: "username" }] },
    "binding_shadows_variable",
  );
});

Deno.test("topic, selector and publisher errors", () => {
  assert.match(
    only({ ...base, rules: [{ topic: "a/#/b", action: "sub" }] }, "invalid_topic").message,
    /invalid topic "a\/#\/b": '#' must be the last level/,
  );
  assert.match(
    only(
      { ...base, rules: [{ topic: "$share/g/jobs/#", action: "sub" }] },
      "shared_subscription_in_rule",
    ).message,
    /write "jobs\/#" instead/,
  );
  assert.match(
    only({ ...base, rules: [{ topic: "a", action: "pub", user: "a*b" }] }, "invalid_user_selector")
      .message,
    /"\*" may only end a selector/,
  );
  only({ ...base, publishers: [{ identity: "x", topics: ["a/{room}"] }] }, "publisher_channel");
  only({ ...base, publishers: [{ identity: "x", topics: [] }] }, "empty_value");
  assert.match(
    only({ ...base, rules: [{ topic: "a", action: "pub", binding: "1bad" }] }, "invalid_claim_name")
      .message,
    /invalid binding "1bad"/,
  );
  only(
    {
      ...base,
      rules: [{ topic: "a", action: "pub" }],
      tests: [{
        name: "t",
        client: { username: "u", claims: { "a b": "x" } },
        action: "pub",
        topic: "a",
        expect: "allow",
      }],
    },
    "invalid_claim_name",
  );
  only({ ...base, rules: [{ topic: "a", action: "pub", qos: [0, 0] }] }, "duplicate_value");
  assert.match(
    only({ ...base, rules: [{ topic: "a", action: "pub", qos: [3] }] }, "invalid_value").message,
    /invalid QoS 3 \(must be 0, 1 or 2\)/,
  );
});

Deno.test("warnings of the policy reference", () => {
  assert.match(
    only(
      { version: "2.2", default: "allow", rules: [{ topic: "a", action: "pub" }] },
      "default_allow",
    ).message,
    /prefer "deny"/,
  );
  only({ ...base, global: [{ topic: "#", action: "sub" }] }, "subscribe_everything");
  only({ ...base, global: [{ topic: "+/#", action: "pub+sub" }] }, "subscribe_everything");
  assert.deepEqual(codes({ ...base, global: [{ topic: "#", action: "sub", user: "admin" }] }), []);
  only({ ...base, rules: [{ topic: "$SYS/#", action: "pub" }] }, "publish_sys");
  only({ ...base, publishers: [{ identity: "x", topics: ["$SYS/x"] }] }, "publish_sys");
  const redundant = only(
    {
      ...base,
      rules: [{ topic: "agents/#", action: "sub" }, {
        topic: "agents/{$self}/card",
        action: "sub",
        binding: "id",
      }],
    },
    "redundant_rule",
  );
  assert.equal(redundant.path, "rules[1]");
  assert.equal(
    redundant.message,
    "redundant: rules[0] (agents/#) already allows everything this rule allows",
  );
  assert.deepEqual(
    codes({
      ...base,
      rules: [{ topic: "agents/#", action: "sub", qos: [0] }, { topic: "agents/x", action: "sub" }],
    }),
    [],
    "a rule allowing more QoS levels is not redundant",
  );
  assert.deepEqual(
    codes({
      ...base,
      rules: [{ topic: "agents/#", action: "sub", user: "a" }, {
        topic: "agents/x",
        action: "sub",
      }],
    }),
    [],
    "a rule for everyone is not covered by one for a single user",
  );
  const narrower = only(
    { ...base, rules: [{ topic: "a/#", action: "sub" }, { topic: "a/#", action: "pub+sub" }] },
    "redundant_rule",
  );
  assert.equal(narrower.path, "rules[0]", "sub is covered by pub+sub, not the other way");
  const duplicate = only({
    ...base,
    rules: [{ topic: "a", action: "pub" }, { topic: "a", action: "pub", description: "again" }],
  }, "duplicate_rule");
  assert.equal(duplicate.message, "duplicate of rules[0] (a)");
  const mutual = findings({
    ...base,
    rules: [{ topic: "#", action: "pub" }, { topic: "+/#", action: "pub" }],
  });
  assert.deepEqual(mutual.map((f) => [f.code, f.path]), [["redundant_rule", "rules[1]"]]);
  only({ ...base, rules: [{ topic: "a", action: "pub", binding: "k" }] }, "binding_unused");
  only({
    ...base,
    rules: [{ topic: "a/{x}", action: "pub", binding: "k", require_grant: true }, {
      topic: "b",
      action: "pub",
      binding: "k",
      require_grant: true,
    }],
  }, "require_grant_unused");
  only(
    { ...base, rules: [{ topic: "a", action: "sub", retain: false }] },
    "retain_without_publish",
  );
  only(base, "no_rules");
  only(
    {
      ...base,
      rules: [{ topic: "a", action: "pub" }],
      tests: [
        { name: "same", client: { username: "u" }, action: "pub", topic: "a", expect: "allow" },
        { name: "same", client: { username: "u" }, action: "pub", topic: "b", expect: "deny" },
      ],
    },
    "duplicate_test_name",
  );
});

Deno.test("a rule with a schema error is still checked, but not compared with others", () => {
  const result = findings({
    ...base,
    rules: [
      { topic: "a/#", action: "pub" },
      { topic: "a/#/b", action: "pub", efect: "deny" },
      { topic: "a/x", action: "pub", efect: "deny" },
    ],
  });
  assert.deepEqual(result.map((f) => f.code).sort(), [
    "invalid_topic",
    "unknown_field",
    "unknown_field",
  ]);
});

Deno.test("the dashboard editor's shape gets one error saying how to convert it", () => {
  const result = findings({ rules: [{ user: "*", topic: "a/#", permission: "subscribe" }] });
  assert.equal(result.length, 1);
  assert.equal(result[0].code, "dashboard_format");
  assert.match(
    result[0].message,
    /add "version": "2.2" and "default": "deny".*"permission" to "action" \(publish → pub, subscribe → sub, both → pub\+sub\)/,
  );
});

Deno.test("text: syntax errors and duplicate keys come with line and column", () => {
  const broken = validatePolicyText(
    '{\n  "version": "2.2",\n  "default": "deny"\n  "rules": []\n}',
  );
  assert.equal(broken.findings.length, 1);
  assert.equal(broken.findings[0].code, "json_syntax");
  assert.deepEqual([broken.findings[0].line, broken.findings[0].column], [4, 3]);
  assert.match(
    broken.findings[0].message,
    /^invalid JSON: expected ',' or '}' after the value of "default"/,
  );
  const duplicate = validatePolicyText('{"version": "2.2", "default": "deny", "default": "allow"}');
  const finding = duplicate.findings.find((f) => f.code === "duplicate_key")!;
  assert.equal(finding.path, "default");
  assert.equal(finding.column, 39);
  assert.equal(duplicate.valid, false);
});

Deno.test("findings are ordered by their place in the file", () => {
  const text = JSON.stringify(
    {
      ...base,
      rules: [
        { topic: "a/#/b", action: "pub" },
        { topic: "c", action: "read" },
        { topic: "{x}", action: "sub" },
      ],
    },
    null,
    2,
  );
  const lines = validatePolicyText(text).findings.map((f) => f.line!);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  assert.equal(lines.length, 3);
});

Deno.test("counts of rules, global rules, publishers and tests", () => {
  const result = validatePolicyDocument({
    ...base,
    global: [{ topic: "g", action: "sub" }],
    rules: [{ topic: "a", action: "pub" }, { topic: "b", action: "pub" }],
    tests: [],
  });
  assert.deepEqual(result.counts, { global: 1, rules: 2, publishers: 0, tests: 0 });
  assert.equal(result.valid, true);
  assert.ok(result.policy);
});

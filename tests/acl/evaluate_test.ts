import assert from "node:assert/strict";
import { compilePolicy, PolicyCompileError } from "../../src/acl/compile.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import { describeDecision } from "../../src/acl/explain.ts";
import type { AclRequest, ClientIdentity, Policy, Rule } from "../../src/acl/types.ts";

function policyOf(rules: Rule[], extra: Partial<Policy> = {}): Policy {
  return { version: "2.2", default: "deny", rules, ...extra };
}

function decide(policy: Policy, request: AclRequest) {
  const compiled = compilePolicy(policy);
  const fast = evaluate(compiled, request);
  const traced = evaluate(compiled, request, { trace: true });
  assert.equal(fast.decision, traced.decision, "fast and traced paths disagree");
  assert.equal(fast.reason, traced.reason);
  return traced;
}

const scout: ClientIdentity = { username: "scout", claims: { agent_id: "scout" } };
const card: Rule = { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" };

Deno.test("the documented decision: {$self} resolves and matches", () => {
  const request: AclRequest = { client: scout, action: "pub", topic: "agents/scout/card" };
  const decision = decide(policyOf([card]), request);
  assert.equal(decision.decision, "allow");
  assert.equal(decision.reason, "rule");
  assert.deepEqual(decision.matched, {
    section: "rules",
    index: 0,
    pointer: "/rules/0",
    line: null,
    topic: "agents/{$self}/card",
    resolved_topic: "agents/scout/card",
  });
  assert.equal(
    describeDecision(decision, request),
    "Allowed - matches rules[0] (agents/{$self}/card resolves to agents/scout/card which matches agents/scout/card)",
  );
});

Deno.test("the documented default decision", () => {
  const request: AclRequest = { client: scout, action: "pub", topic: "agents/bob/card" };
  const decision = decide(policyOf([card]), request);
  assert.equal(describeDecision(decision, request), "Denied - no rule matches (default: deny)");
  assert.equal(decision.granted_qos, null);
  assert.match(
    decision.trace![0].why,
    /resolves to agents\/scout\/card which does not match agents\/bob\/card/,
  );
});

Deno.test("the documented trace reason for an action mismatch", () => {
  const policy = policyOf([card], { global: [{ topic: "broadcast/#", action: "sub" }] });
  const decision = decide(policy, { client: scout, action: "pub", topic: "broadcast/x" });
  assert.deepEqual(decision.trace![0], {
    pointer: "/global/0",
    applies: false,
    effect: "allow",
    why: "action sub does not cover pub",
  });
});

Deno.test("placeholder values: missing, empty, / + # and NUL never match, and the trace says why", () => {
  const cases: [Record<string, string> | undefined, string, RegExp][] = [
    [undefined, "agents/x/card", /claim agent_id is not set/],
    [{}, "agents/x/card", /claim agent_id is not set/],
    [{ agent_id: "" }, "agents//card", /claim agent_id is empty/],
    [{ agent_id: "a/b" }, "agents/a/b/card", /does not (match|cover)/],
    [
      { agent_id: "+" },
      "agents/+/card",
      /claim agent_id contains '\+'|cannot contain '\+'|does not cover/,
    ],
    [{ agent_id: "#" }, "agents/#", /does not cover|cannot contain '#'/],
    [{ agent_id: "a\u0000" }, "agents/a\u0000/card", /invalid topic|NUL/],
  ];
  for (const [claims, topic, why] of cases) {
    for (const action of ["pub", "sub"] as const) {
      const request: AclRequest = { client: { username: "u", claims }, action, topic };
      const decision = decide(policyOf([card]), request);
      assert.equal(decision.decision, "deny", `${action} ${topic} with ${JSON.stringify(claims)}`);
      const why0 = decision.reason === "invalid_topic" ? decision.detail! : decision.trace![0].why;
      assert.match(why0, why, `${action} ${topic}: ${why0}`);
    }
  }
  // Structurally matching topics isolate the placeholder check.
  const plus = decide(policyOf([card]), {
    client: { username: "u", claims: { agent_id: "+" } },
    action: "sub",
    topic: "agents/x/card",
  });
  assert.match(plus.trace![0].why, /claim agent_id contains '\+', which is unsafe/);
  const nul = decide(policyOf([card]), {
    client: { username: "u", claims: { agent_id: "x\u0000" } },
    action: "pub",
    topic: "agents/x/card",
  });
  assert.match(nul.trace![0].why, /contains 'NUL'/);
  const slash = decide(policyOf([{ topic: "a/{$self}", action: "pub", binding: "k" }]), {
    client: { username: "u", claims: { k: "b/c" } },
    action: "pub",
    topic: "a/b",
  });
  assert.match(slash.trace![0].why, /claim k contains '\/'/);
  assert.equal(slash.decision, "deny");
});

Deno.test("an unsafe value never widens a rule into a wildcard", () => {
  const policy = policyOf([{ topic: "inbox/{$self}/#", action: "sub", binding: "k" }]);
  for (const value of ["#", "+", "a/#"]) {
    const decision = decide(policy, {
      client: { username: "u", claims: { k: value } },
      action: "sub",
      topic: "inbox/#",
    });
    assert.equal(decision.decision, "deny", value);
  }
});

Deno.test("connection variables and claims resolve; claims named like Object members do not leak", () => {
  const policy = policyOf([
    { topic: "devices/{client_id}/{username}/{org_short_id}", action: "pub" },
    { topic: "x/{$self.constructor}", action: "pub" },
  ]);
  const client = { username: "u", client_id: "c1", org_short_id: "o1" };
  assert.equal(
    decide(policy, { client, action: "pub", topic: "devices/c1/u/o1" }).decision,
    "allow",
  );
  const missing = decide(policy, {
    client: { username: "u" },
    action: "pub",
    topic: "devices/c1/u/o1",
  });
  assert.match(missing.trace![0].why, /\{client_id\} is not set/);
  const proto = decide(policy, {
    client: { username: "u", claims: {} },
    action: "pub",
    topic: "x/function Object() { [native code] }",
  });
  assert.equal(proto.decision, "deny");
  assert.match(proto.trace![1].why, /claim constructor is not set/);
});

Deno.test("a placeholder cannot make the first level start with $", () => {
  const policy = policyOf([{ topic: "{client_id}/status", action: "pub+sub" }]);
  const decision = decide(policy, {
    client: { username: "u", client_id: "$SYS" },
    action: "pub",
    topic: "$SYS/status",
  });
  assert.equal(decision.decision, "deny");
  assert.match(decision.trace![0].why, /start with \$/);
  const literal = policyOf([{ topic: "$SYS/{client_id}", action: "pub" }]);
  assert.equal(
    decide(literal, { client: { username: "u", client_id: "x" }, action: "pub", topic: "$SYS/x" })
      .decision,
    "allow",
  );
});

Deno.test("a placeholder shares a level with literal text", () => {
  const policy = policyOf([{ topic: "devices/{$self}-status", action: "pub", binding: "id" }]);
  const client = { username: "u", claims: { id: "d1" } };
  assert.equal(
    decide(policy, { client, action: "pub", topic: "devices/d1-status" }).decision,
    "allow",
  );
  assert.equal(
    decide(policy, { client, action: "pub", topic: "devices/d2-status" }).decision,
    "deny",
  );
});

Deno.test("version 2 literal form {<binding>} resolves to the claim", () => {
  const policy: Policy = {
    version: "2",
    default: "deny",
    rules: [{ topic: "/{email}/inbox", action: "sub", binding: "email" }],
  };
  const client = { username: "a", claims: { email: "a@x.io" } };
  const decision = decide(policy, { client, action: "sub", topic: "/a@x.io/inbox" });
  assert.equal(decision.decision, "allow");
  assert.equal(decision.matched!.resolved_topic, "/a@x.io/inbox");
  assert.equal(decide(policy, { client, action: "sub", topic: "a@x.io/inbox" }).decision, "deny");
});

Deno.test("channel placeholders: named +, grants, empty levels", () => {
  const open = policyOf([{ topic: "chat/{channel}/#", action: "sub" }]);
  const anyone = { username: "u" };
  assert.equal(
    decide(open, { client: anyone, action: "sub", topic: "chat/lobby/#" }).decision,
    "allow",
  );
  const empty = decide(open, { client: anyone, action: "sub", topic: "chat//x" });
  assert.equal(empty.decision, "deny");
  assert.match(empty.trace![0].why, /channel \{channel\} would be an empty level/);
  // `+` also matches an empty level, which a channel never does: not contained.
  assert.equal(decide(open, { client: anyone, action: "sub", topic: "chat/+/x" }).decision, "deny");

  const granted = policyOf([{
    topic: "chat/{channel}/#",
    action: "pub+sub",
    binding: "channels",
    require_grant: true,
  }]);
  const member = { username: "u", claims: { channels: "lobby, dev" } };
  assert.equal(
    decide(granted, { client: member, action: "pub", topic: "chat/dev/x" }).decision,
    "allow",
  );
  const other = decide(granted, { client: member, action: "pub", topic: "chat/ops/x" });
  assert.equal(other.decision, "deny");
  assert.match(other.trace![0].why, /channel "ops" is not in claim channels/);
  const none = decide(granted, { client: anyone, action: "pub", topic: "chat/dev/x" });
  assert.match(none.trace![0].why, /claim channels is not set/);
  assert.equal(
    decide(granted, { client: member, action: "sub", topic: "chat/+/x" }).decision,
    "deny",
  );
  assert.equal(
    decide(granted, { client: member, action: "sub", topic: "chat/#" }).decision,
    "deny",
  );
});

Deno.test("deny overrides allow regardless of order", () => {
  const allow: Rule = { topic: "a/#", action: "pub" };
  const deny: Rule = { topic: "a/secret/#", action: "pub", effect: "deny" };
  for (const rules of [[allow, deny], [deny, allow]]) {
    const request: AclRequest = { client: { username: "u" }, action: "pub", topic: "a/secret/x" };
    const decision = decide(policyOf(rules), request);
    assert.equal(decision.decision, "deny");
    assert.equal(decision.reason, "deny_rule");
    assert.equal(decision.matched!.topic, "a/secret/#");
    assert.match(
      describeDecision(decision, request),
      /^Denied - matches deny rule rules\[\d\] \(a\/secret\/# matches a\/secret\/x\)$/,
    );
  }
});

Deno.test("default allow applies only when no rule applies", () => {
  const policy = policyOf([{ topic: "a", action: "pub", effect: "deny" }], { default: "allow" });
  const request: AclRequest = { client: { username: "u" }, action: "pub", topic: "b", qos: 1 };
  const decision = decide(policy, request);
  assert.equal(describeDecision(decision, request), "Allowed - no rule matches (default: allow)");
  assert.equal(decision.granted_qos, 1);
  assert.equal(decide(policy, { ...request, topic: "a" }).decision, "deny");
});

Deno.test("QoS and retain: publishes outside the rule are not covered; subscriptions are downgraded", () => {
  const policy = policyOf([{ topic: "t/#", action: "pub+sub", qos: [0, 1], retain: false }]);
  const client = { username: "u" };
  assert.equal(decide(policy, { client, action: "pub", topic: "t/a", qos: 1 }).decision, "allow");
  const q2 = decide(policy, { client, action: "pub", topic: "t/a", qos: 2 });
  assert.match(q2.trace![0].why, /QoS 2 is not allowed \(qos: \[0, 1\]\)/);
  const retained = decide(policy, { client, action: "pub", topic: "t/a", retain: true });
  assert.match(retained.trace![0].why, /retained publishes are not allowed/);
  assert.equal(decide(policy, { client, action: "sub", topic: "t/#", qos: 2 }).granted_qos, 1);
  const high = policyOf([{ topic: "t/#", action: "sub", qos: [1, 2] }]);
  const low = decide(high, { client, action: "sub", topic: "t/#", qos: 0 });
  assert.equal(low.decision, "deny");
  assert.match(low.trace![0].why, /no allowed QoS at or below 0/);
  const two = policyOf([{ topic: "t/#", action: "sub", qos: [0] }, {
    topic: "t/a",
    action: "sub",
    qos: [2],
  }]);
  assert.equal(decide(two, { client, action: "sub", topic: "t/a", qos: 2 }).granted_qos, 2);
});

Deno.test("user selectors: exact, prefix, everyone", () => {
  const policy = policyOf([
    { topic: "a", action: "pub", user: "orchestrator" },
    { topic: "b", action: "pub", user: "agent-*" },
    { topic: "c", action: "pub", user: "*" },
  ]);
  const as = (username: string, topic: string) =>
    decide(policy, { client: { username }, action: "pub", topic }).decision;
  assert.equal(as("orchestrator", "a"), "allow");
  assert.equal(as("orchestrator2", "a"), "deny");
  assert.equal(as("agent-7", "b"), "allow");
  assert.equal(as("agent", "b"), "deny");
  assert.equal(as("", "c"), "allow");
  const trace = decide(policy, { client: { username: "x" }, action: "pub", topic: "a" }).trace!;
  assert.equal(trace[0].why, 'user selector orchestrator does not select username "x"');
});

Deno.test("publishers publish, never subscribe", () => {
  const policy: Policy = {
    version: "2.2",
    default: "deny",
    publishers: [{ identity: "backend-*", topics: ["n/#", "m"], qos: [0, 1] }],
  };
  const backend = { username: "backend-1" };
  const published = decide(policy, { client: backend, action: "pub", topic: "m" });
  assert.equal(published.decision, "allow");
  assert.equal(published.matched!.pointer, "/publishers/0/topics/1");
  assert.equal(decide(policy, { client: backend, action: "sub", topic: "n/#" }).decision, "deny");
  assert.equal(
    decide(policy, { client: backend, action: "pub", topic: "n/x", qos: 2 }).decision,
    "deny",
  );
});

Deno.test("shared subscriptions are decided on their filter; malformed ones are invalid", () => {
  const policy = policyOf([{ topic: "jobs/#", action: "sub" }]);
  const client = { username: "u" };
  assert.equal(
    decide(policy, { client, action: "sub", topic: "$share/workers/jobs/+" }).decision,
    "allow",
  );
  assert.equal(
    decide(policy, { client, action: "sub", topic: "$share/workers/other" }).decision,
    "deny",
  );
  const bad = decide(policy, { client, action: "sub", topic: "$share//jobs/x" });
  assert.equal(bad.reason, "invalid_topic");
  assert.match(bad.detail!, /group is empty/);
});

Deno.test("$ topics: wildcards at the first level never match them; literal rules do", () => {
  const policy = policyOf([{ topic: "#", action: "pub+sub" }, { topic: "+/x", action: "pub" }]);
  const client = { username: "u" };
  const sys = decide(policy, { client, action: "sub", topic: "$SYS/broker/load" });
  assert.equal(sys.decision, "deny");
  assert.match(sys.trace![0].why, /starts with a wildcard/);
  assert.equal(decide(policy, { client, action: "pub", topic: "$x/x" }).decision, "deny");
  const explicit = policyOf([{ topic: "$SYS/#", action: "sub" }]);
  assert.equal(
    decide(explicit, { client, action: "sub", topic: "$SYS/broker/load" }).decision,
    "allow",
  );
});

Deno.test("invalid request topics are denied with reason invalid_topic", () => {
  const policy = policyOf([{ topic: "#", action: "pub+sub" }], { default: "allow" });
  const client = { username: "u" };
  for (
    const [action, topic] of [["pub", "a/+"], ["pub", ""], ["sub", "a/#/b"], [
      "pub",
      "a\u0000",
    ]] as const
  ) {
    const decision = decide(policy, { client, action, topic });
    assert.equal(decision.decision, "deny", topic);
    assert.equal(decision.reason, "invalid_topic");
  }
});

Deno.test("topics are case-sensitive and a leading / is an empty level", () => {
  const policy = policyOf([{ topic: "/Finance", action: "pub" }]);
  const client = { username: "u" };
  assert.equal(decide(policy, { client, action: "pub", topic: "/Finance" }).decision, "allow");
  assert.equal(decide(policy, { client, action: "pub", topic: "/finance" }).decision, "deny");
  assert.equal(decide(policy, { client, action: "pub", topic: "Finance" }).decision, "deny");
});

Deno.test("compiling an unvalidated, ambiguous policy throws instead of guessing", () => {
  assert.throws(
    () => compilePolicy(policyOf([{ topic: "a/{$self}", action: "pub" }])),
    (error) =>
      error instanceof PolicyCompileError && error.pointer === "/rules/0" &&
      /binding/.test(error.message),
  );
  assert.throws(
    () => compilePolicy(policyOf([{ topic: "a/#/b", action: "pub" }])),
    PolicyCompileError,
  );
  assert.throws(
    () => compilePolicy(policyOf([{ topic: "a", action: "pub", user: "a*b" }])),
    PolicyCompileError,
  );
});

Deno.test("compiling a document of the wrong shape refuses with a coded error, never a TypeError", () => {
  const cases: [unknown, string][] = [
    [null, ""],
    [{ version: "2.2", default: "deny", rules: [null] }, "/rules/0"],
    [
      { version: "2.2", default: "deny", global: [{ topic: "a", action: "read" }] },
      "/global/0/action",
    ],
    [{ version: "2.2", default: "deny", publishers: ["backend"] }, "/publishers/0"],
    [{ version: "2.2", default: "deny", publishers: [{ identity: "b" }] }, "/publishers/0"],
    [
      { version: "2.2", default: "deny", publishers: [{ identity: "b", topics: "x" }] },
      "/publishers/0/topics",
    ],
    [{ version: "2.2", default: "deny", rules: {} }, "/rules"],
    [{ version: 2.2, default: "deny" }, "/version"],
  ];
  for (const [document, pointer] of cases) {
    assert.throws(
      () => compilePolicy(document as Policy),
      (error) =>
        error instanceof PolicyCompileError && error.code === "malformed_policy" &&
        error.pointer === pointer,
      JSON.stringify(document),
    );
  }
});

Deno.test("the decision is independent of state left by earlier decisions", () => {
  const compiled = compilePolicy(policyOf([card, { topic: "chat/{c}/x", action: "sub" }]));
  const first = evaluate(compiled, { client: scout, action: "sub", topic: "chat/a/x" });
  evaluate(compiled, {
    client: { username: "v", claims: { agent_id: "v" } },
    action: "pub",
    topic: "agents/v/card",
  });
  const again = evaluate(compiled, { client: scout, action: "sub", topic: "chat/a/x" });
  assert.deepEqual(again, first);
});

import assert from "node:assert/strict";
import { compilePolicy } from "../../src/acl/compile.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import { describeDenial, explainDenial } from "../../src/acl/explain.ts";
import type { AclRequest, Policy } from "../../src/acl/types.ts";

const POLICY: Policy = {
  version: "2.2",
  default: "deny",
  rules: [
    { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" },
    { topic: "devices/dev-{client_id}/status", action: "pub" },
    { topic: "sensors/#", action: "pub", qos: [0, 1], retain: false },
    { topic: "teams/{$self.team}/{$self.role}", action: "sub" },
    { topic: "admin/#", action: "pub", user: "root" },
    { topic: "blocked/{$self}", action: "pub", binding: "agent_id" },
    { topic: "blocked/#", action: "pub", effect: "deny" },
  ],
};
const compiled = compilePolicy(POLICY);

function why(request: Partial<AclRequest> & { topic: string }) {
  const full: AclRequest = { client: { username: "scout" }, action: "pub", ...request };
  const decision = evaluate(compiled, full, { trace: true });
  return explainDenial(compiled, full, decision);
}

Deno.test("explainDenial: a claim the client lacks, with the value the topic asks for", () => {
  const reason = why({ topic: "agents/scout/card" })!;
  assert.equal(reason.path, "rules[0]");
  assert.deepEqual(reason.missing, [{ kind: "claim", name: "agent_id", value: "scout" }]);
  assert.equal(
    describeDenial(reason),
    'rules[0] (agents/{$self}/card) would allow this, but the client has no claim "agent_id" ("scout" would match)',
  );
  const empty = why({
    topic: "agents/scout/card",
    client: { username: "s", claims: { agent_id: "" } },
  });
  assert.equal(empty?.missing[0].kind, "claim", "an empty claim is as good as none");
});

Deno.test("explainDenial: a missing client id, inside literal text of its level", () => {
  assert.deepEqual(why({ topic: "devices/dev-d1/status" })?.missing, [
    { kind: "variable", name: "client_id", value: "d1" },
  ]);
  assert.equal(why({ topic: "devices/d1/status" }), null, "the literal part does not fit");
});

Deno.test("explainDenial: QoS and retain limits, alone and together", () => {
  assert.deepEqual(why({ topic: "sensors/a", qos: 2 })?.missing, [
    { kind: "qos", allowed: [0, 1], requested: 2 },
  ]);
  assert.deepEqual(why({ topic: "sensors/a", retain: true })?.missing, [{ kind: "retain" }]);
  assert.deepEqual(why({ topic: "sensors/a", retain: true, qos: 2 })?.missing, [
    { kind: "retain" },
    { kind: "qos", allowed: [0, 1], requested: 2 },
  ]);
  assert.match(
    describeDenial(why({ topic: "sensors/a", qos: 2 })!),
    /allows QoS 0 or 1 only, and QoS 2 was asked for$/,
  );
});

Deno.test("explainDenial: two claims in one topic are both named", () => {
  assert.deepEqual(why({ action: "sub", topic: "teams/red/lead" })?.missing, [
    { kind: "claim", name: "team", value: "red" },
    { kind: "claim", name: "role", value: "lead" },
  ]);
});

Deno.test("explainDenial: nothing to say when no allow rule is that close", () => {
  assert.equal(why({ topic: "nowhere/x" }), null, "no rule's topic fits");
  assert.equal(why({ topic: "admin/x" }), null, "another user's rule");
  assert.equal(
    why({ action: "sub", topic: "agents/+/card" }),
    null,
    "a wildcard is no claim value",
  );
  assert.equal(
    why({ topic: "blocked/scout" }),
    null,
    "a deny rule decides: the denial already names it",
  );
  const allowed = { client: { username: "s" }, action: "pub", topic: "sensors/a" } as AclRequest;
  assert.equal(explainDenial(compiled, allowed, evaluate(compiled, allowed)), null);
});

Deno.test("explainDenial: a publisher's identity is its selector", () => {
  const policy = compilePolicy({
    version: "2.2",
    default: "deny",
    publishers: [{ identity: "backend-*", topics: ["notifications/#"], qos: [0] }],
  });
  const request: AclRequest = {
    client: { username: "backend-1" },
    action: "pub",
    topic: "notifications/x",
    qos: 1,
  };
  const reason = explainDenial(policy, request, evaluate(policy, request, { trace: true }));
  assert.equal(reason?.path, "publishers[0]");
  assert.deepEqual(reason?.missing, [{ kind: "qos", allowed: [0], requested: 1 }]);
});

Deno.test("explainDenial: a large policy costs a few untraced decisions, not one traced pass per rule", () => {
  const rules: Policy["rules"] = [];
  for (let t = 0; t < 2_000; t++) {
    rules.push({
      topic: `tenants/t${t}/devices/{$self}/telemetry`,
      action: "pub",
      binding: "device",
    });
    rules.push({ topic: `tenants/t${t}/alerts/+`, action: "sub", qos: [0] });
  }
  const large = compilePolicy({ version: "2.2", default: "deny", rules });
  let decisions = 0;
  const counted = (policy: typeof large, request: AclRequest) => {
    decisions++;
    return evaluate(policy, request);
  };
  const request: AclRequest = {
    client: { username: "d7" },
    action: "pub",
    topic: "tenants/t1500/devices/d7/telemetry",
  };
  const reason = explainDenial(large, request, evaluate(large, request), counted);
  assert.equal(reason?.path, "rules[3000]");
  assert.deepEqual(reason?.missing, [{ kind: "claim", name: "device", value: "d7" }]);
  assert.equal(decisions, 1);

  decisions = 0;
  const sub: AclRequest = {
    client: { username: "d7" },
    action: "sub",
    topic: "tenants/t42/alerts/fire",
    qos: 2,
  };
  const none = explainDenial(large, sub, evaluate(large, sub), counted);
  assert.equal(none, null, "a subscribe is granted a lower QoS, never denied for it");
  assert.ok(decisions <= 2, `${decisions} decisions`);
});

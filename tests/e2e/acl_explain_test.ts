/**
 * Offline explanations: a denial that a missing claim or client id, the QoS or retain caused
 * says why without `--trace`, and a finding in a one-line file shows its text with a caret.
 */

import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/cli.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  rules: [
    { topic: "agents/{$self}/card", action: "pub+sub", binding: "agent_id" },
    { topic: "devices/{client_id}/status", action: "pub" },
    { topic: "sensors/#", action: "pub", qos: [0, 1], retain: false },
  ],
  tests: [{
    name: "scout owns its card",
    client: { username: "scout" },
    action: "pub",
    topic: "agents/scout/card",
    expect: "allow",
  }],
};

async function withPolicy(text: string, run: (path: string) => Promise<void>) {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/policy.json`, text);
    await run(`${dir.path}/policy.json`);
  } finally {
    await dir.cleanup();
  }
}

Deno.test("acl simulate: a denial names the rule that would allow it and what is missing", () =>
  withPolicy(JSON.stringify(POLICY, null, 2), async (path) => {
    const simulate = (...args: string[]) =>
      runCli(["acl", "simulate", "--policy", path, "--username", "scout", ...args]);
    const cases: [string[], RegExp][] = [
      [
        ["--action", "pub", "--topic", "agents/scout/card"],
        /^ {2}why: rules\[0\] \(agents\/\{\$self\}\/card\) would allow this, but the client has no claim "agent_id" \("scout" would match\); try --claim agent_id=scout\n {2}at .*policy\.json:5\n$/m,
      ],
      [
        ["--action", "pub", "--topic", "devices/d1/status"],
        /why: rules\[1\] .* has no client_id \("d1" would match\); try --client-id d1\n/,
      ],
      [
        ["--action", "pub", "--topic", "sensors/a", "--qos", "2"],
        /why: rules\[2\] \(sensors\/#\) would allow this, but it allows QoS 0 or 1 only, and QoS 2 was asked for; try --qos 1\n/,
      ],
      [
        ["--action", "pub", "--topic", "sensors/a", "--retain"],
        /why: rules\[2\] .* does not allow retained publishes \(retain: false\); try without --retain\n/,
      ],
    ];
    for (const [args, why] of cases) {
      const result = await simulate(...args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Denied - no rule matches \(default: deny\)\n/);
      assert.match(result.stdout, why);
    }
    const far = await simulate("--action", "pub", "--topic", "elsewhere");
    assert.equal(far.stdout, "Denied - no rule matches (default: deny)\n", "nothing close: no why");
    const allowed = await simulate(
      "--action",
      "pub",
      "--topic",
      "agents/scout/card",
      "--claim",
      "agent_id=scout",
    );
    assert.doesNotMatch(allowed.stdout, /why/);
  }));

Deno.test("acl test: a failing test says why it was denied", () =>
  withPolicy(JSON.stringify(POLICY, null, 2), async (path) => {
    const result = await runCli(["acl", "test", path]);
    assert.equal(result.code, 3);
    assert.match(
      result.stdout,
      /✗ scout owns its card.*\n {4}expected allow, got deny\n {4}Denied - no rule matches \(default: deny\)\n {4}why: rules\[0\] \(agents\/\{\$self\}\/card\) would allow this, but the client has no claim "agent_id"/,
    );
  }));

Deno.test("a finding in a one-line policy shows the offending text with a caret", () => {
  const rules = Array.from({ length: 30 }, (_, k) => ({ topic: `t/${k}`, action: "pub" }));
  const text = JSON.stringify({
    version: "2.2",
    default: "deny",
    rules: [...rules, { topic: "x", effcet: "deny" }],
  });
  return withPolicy(text, async (path) => {
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 1);
    const match = result.stdout.match(
      /error: rules\[30\] - unknown field "effcet" \(did you mean "effect"\?\)\n {4}at .*policy\.json:1:(\d+)\n {4}(….*…?)\n {4}( *\^)\n/,
    );
    assert.ok(match, result.stdout);
    assert.ok(Number(match[1]) > 600, "far along the one line");
    assert.equal(match[2].slice(match[3].length - 1, match[3].length + 7), '"effcet"');
  });
});

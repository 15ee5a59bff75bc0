/** `acl simulate` says what the local broker does beyond the policy, and where the limits are. */

import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";

const POLICY = new URL("../../examples/presets/permit-all.json", import.meta.url).pathname;

function simulate(action: string, topic: string, ...extra: string[]) {
  return runCli([
    "acl",
    "simulate",
    "--policy",
    POLICY,
    "--username",
    "ada",
    "--action",
    action,
    "--topic",
    topic,
    ...extra,
  ]);
}

Deno.test("acl simulate: $share and $SYS requests carry the local broker's notes", async () => {
  const shared = await simulate("sub", "$share/g1/sensors/x", "--json");
  assert.equal(shared.code, 0, shared.stderr);
  const decision = JSON.parse(shared.stdout);
  assert.deepEqual(decision.platform_notes.map((note: { code: string }) => note.code), [
    "shared_subscription_refused",
  ]);
  const words = await simulate("pub", "$SYS/x/heartbeat");
  assert.match(
    words.stdout,
    /^note \(cloudsignal dev\): .*drops publishes to "\$SYS\/x\/heartbeat"/m,
  );
  const plain = await simulate("pub", "sensors/x", "--json");
  assert.deepEqual(JSON.parse(plain.stdout).platform_notes, []);
});

Deno.test("acl simulate: a topic over the platform's 100 levels is denied as invalid", async () => {
  const deep = Array.from({ length: 101 }, (_, i) => `l${i}`).join("/");
  const result = await simulate("pub", deep, "--json", "--exit-status");
  assert.equal(result.code, 3);
  const decision = JSON.parse(result.stdout);
  assert.equal(decision.reason, "invalid_topic");
  const ok = await simulate("pub", deep.split("/").slice(0, 100).join("/"), "--exit-status");
  assert.equal(ok.code, 0, ok.stdout);
});

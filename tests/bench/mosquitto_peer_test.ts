import assert from "node:assert/strict";
import { realisticPolicy, realisticRequests } from "../../bench/support/realistic_policy.ts";
import {
  buildPeer,
  exclusion,
  PeerProcess,
  peerRequests,
  translatePolicy,
} from "../../bench/support/mosquitto_peer.ts";
import { compilePolicy } from "../../src/acl/compile.ts";
import { evaluate } from "../../src/acl/evaluate.ts";
import type { AclRequest, Policy } from "../../src/acl/types.ts";

Deno.test("mosquitto peer: rules become acl_file lines, approximations say why", () => {
  const policy: Policy = {
    version: "2.2",
    default: "deny",
    rules: [
      { topic: "devices/{username}/up", action: "pub" },
      { topic: "status/{client_id}", action: "pub+sub" },
      { topic: "homes/{username}/#", action: "sub", user: "alice" },
      { topic: "agents/{$self}/inbox", action: "sub", binding: "agent_id" },
      { topic: "ops/#", action: "pub", user: "svc-*" },
      { topic: "ops/secrets", action: "pub+sub", effect: "deny" },
    ],
  };
  const acl = translatePolicy(policy);
  assert.equal(
    acl.text,
    [
      "pattern write devices/%u/up",
      "pattern readwrite status/%c",
      "pattern read agents/+/inbox",
      "pattern write ops/#",
      "pattern deny ops/secrets",
      "user alice",
      "topic read homes/alice/#",
      "",
    ].join("\n"),
  );
  assert.deepEqual(acl.lines.map((line) => line.approximation), [
    null,
    null,
    null,
    "claim, channel or organization placeholder",
    "prefix user selector",
    "deny rule",
  ]);
  const request = (username: string, action: "pub" | "sub", topic: string): AclRequest => ({
    client: { username, client_id: "c1" },
    action,
    topic,
  });
  assert.equal(exclusion(acl, request("bob", "pub", "devices/bob/up")), null);
  assert.equal(
    exclusion(acl, request("alice", "sub", "homes/alice/+")),
    "subscription filter with wildcards (containment)",
  );
  assert.equal(exclusion(acl, request("svc-a", "pub", "ops/x")), "prefix user selector");
  assert.equal(exclusion(acl, request("bob", "pub", "ops/secrets")), "prefix user selector");
  assert.equal(
    exclusion(acl, request("bob", "sub", "agents/a/inbox")),
    "claim, channel or organization placeholder",
  );
});

/** Starts both forms of the peer on `size` rules and compares their decisions with ours. */
async function compare(binary: string, size: number) {
  const policy = realisticPolicy(size);
  const requests = realisticRequests(size, 1024, 7);
  const acl = translatePolicy(policy);
  const compiled = compilePolicy(policy);
  let compared = 0;
  for (const allocate of [true, false]) {
    const peer = await PeerProcess.start(binary, acl.text, peerRequests(requests), allocate);
    try {
      const theirs = await peer.decisions();
      assert.equal(theirs.length, requests.length);
      compared = 0;
      requests.forEach((request, i) => {
        if (exclusion(acl, request) !== null) return;
        compared++;
        const ours = evaluate(compiled, request).decision === "allow";
        assert.equal(theirs[i], ours, JSON.stringify(request));
      });
      assert.ok((await peer.round(5)) > 0);
    } finally {
      await peer.close();
    }
  }
  return compared;
}

Deno.test("mosquitto peer: libmosquitto decides as the evaluator on what both can express", async () => {
  const binary = await buildPeer();
  try {
    for (const size of [10, 100, 1_000]) {
      const compared = await compare(binary, size);
      assert.ok(compared > 200, `${size} rules: only ${compared} of 1,024 requests compared`);
    }
  } finally {
    await Deno.remove(binary.slice(0, binary.lastIndexOf("/")), { recursive: true });
  }
});

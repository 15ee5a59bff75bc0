/**
 * `cloudsignal mcp` over stdio with the SDK's own Client, without a platform: the tools each
 * mode lists, the offline tools, what a tool that needs a login says, bad input, concurrent
 * and cancelled calls, progress, and stdout carrying protocol messages only.
 */

import assert from "node:assert/strict";
import { MAIN, tempDir } from "../support/cli.ts";
import {
  AGENT_CARD_RULE,
  call,
  type ConnectOptions,
  connectStdio,
  INITIALIZE,
  READ_TOOLS,
  SCOUT_CARD_TEST,
  serverEnv,
  structured,
  textOf,
  WRITE_TOOLS,
} from "./support.ts";
import { MAX_POLICY_FILE_BYTES } from "../../src/policy/policy_file.ts";

const POLICY = {
  version: "2.2",
  default: "deny",
  rules: [AGENT_CARD_RULE, { topic: "sensors/#", action: "sub" }],
  tests: [SCOUT_CARD_TEST],
};

/** Text with an error on line 4 (an unknown field). */
const INVALID = `{
  "version": "2.2",
  "default": "deny",
  "rules": [{ "topic": "a/#", "action": "pub", "colour": "red" }]
}
`;

Deno.test("tools/list: read tools only by default; the write tools with --allow-writes or the variable", async () => {
  for (
    const [options, expected] of [
      [{}, READ_TOOLS],
      [{ args: ["--allow-writes"] }, [...READ_TOOLS, ...WRITE_TOOLS]],
      [
        { env: serverEnv("/nonexistent", { CLOUDSIGNAL_MCP_ALLOW_WRITES: "1" }) },
        [...READ_TOOLS, ...WRITE_TOOLS],
      ],
    ] as [ConnectOptions, string[]][]
  ) {
    const session = await connectStdio(options);
    try {
      const { tools } = await session.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name), expected);
      for (const tool of tools) {
        assert.ok(tool.title && tool.description && tool.description.length > 80, tool.name);
        assert.equal(tool.inputSchema.type, "object");
        assert.equal(tool.outputSchema?.type, "object", tool.name);
        const hints = tool.annotations!;
        for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]) {
          assert.equal(typeof hints[hint as keyof typeof hints], "boolean", `${tool.name} ${hint}`);
        }
        const writes = WRITE_TOOLS.includes(tool.name);
        assert.equal(hints.readOnlyHint, !writes, tool.name);
        assert.equal(hints.destructiveHint, writes, tool.name);
      }
      const instructions = session.client.getInstructions() ?? "";
      assert.match(
        instructions,
        expected.length > READ_TOOLS.length ? /Writes are enabled/ : /read-only/,
      );
    } finally {
      await session.close();
    }
  }
});

Deno.test("read-only: calling a write tool fails and does nothing", async () => {
  const session = await connectStdio();
  try {
    for (const name of WRITE_TOOLS) {
      const result = await call(session.client, name, { user: "u", key: "k", value: "v" });
      assert.equal(result.isError, true);
      assert.match(
        textOf(result),
        new RegExp(`${name} changes the organization, and this MCP server is read-only`),
      );
      assert.match(textOf(result), /--allow-writes/);
    }
  } finally {
    await session.close();
  }
});

Deno.test("offline tools work without a login: validate, simulate, test, presets", async () => {
  const dir = await tempDir();
  const session = await connectStdio({ cwd: dir.path });
  try {
    await Deno.writeTextFile(`${dir.path}/policy.json`, JSON.stringify(POLICY, null, 2));
    await Deno.writeTextFile(`${dir.path}/invalid.json`, INVALID);

    const valid = structured(
      await call(session.client, "acl_validate", { policy_path: "policy.json", local_only: true }),
    );
    assert.equal(valid.valid, true);
    assert.equal(valid.server, "skipped");
    assert.deepEqual(valid.counts, { global: 0, rules: 2, publishers: 0, tests: 1 });

    const invalid = structured(
      await call(session.client, "acl_validate", { policy_path: "invalid.json", local_only: true }),
    );
    assert.equal(invalid.valid, false);
    const finding = invalid.findings.find((entry: { severity: string }) =>
      entry.severity === "error"
    );
    assert.equal(finding.pointer, "/rules/0/colour");
    assert.equal(finding.line, 4);
    assert.equal(typeof finding.column, "number");
    assert.equal(typeof finding.code, "string");

    // Both stages asked for, no login: the local findings stand, the server stage says why.
    const both = await call(session.client, "acl_validate", { policy: JSON.stringify(POLICY) });
    assert.equal(both.isError, undefined);
    assert.equal(structured(both).server, "failed");
    assert.match(structured(both).server_error, /Not logged in\. Run `cloudsignal login` first/);

    const simulated = structured(
      await call(session.client, "acl_simulate", {
        action: "pub",
        topic: "agents/scout/card",
        username: "scout",
        claims: { agent_id: "scout" },
        policy_path: `${dir.path}/policy.json`,
        trace: true,
      }),
    );
    assert.equal(simulated.decision.decision, "allow");
    assert.equal(simulated.decision.matched.pointer, "/rules/0");
    assert.equal(simulated.decision.trace.length, 2);
    assert.equal(
      simulated.explanation,
      "Allowed - matches rules[0] (agents/{$self}/card resolves to agents/scout/card which matches agents/scout/card)",
    );
    const denied = structured(
      await call(session.client, "acl_simulate", {
        action: "pub",
        topic: "agents/other/card",
        username: "scout",
        claims: { agent_id: "scout" },
        policy: JSON.stringify(POLICY),
      }),
    );
    assert.equal(denied.decision.decision, "deny");
    assert.equal(denied.decision.trace, undefined, "no trace unless asked");
    assert.equal(denied.explanation, "Denied - no rule matches (default: deny)");
    assert.equal(denied.why, null, "the rule needs another value, not a missing one");
    assert.deepEqual(denied.platform_notes, []);

    const lacking = await call(session.client, "acl_simulate", {
      action: "pub",
      topic: "agents/scout/card",
      username: "scout",
      policy: JSON.stringify(POLICY),
    });
    assert.equal(
      structured(lacking).why,
      'rules[0] (agents/{$self}/card) would allow this, but the client has no claim "agent_id" ("scout" would match)',
    );
    assert.match(textOf(lacking), /\n {2}why: rules\[0\]/);
    const shared = structured(
      await call(session.client, "acl_simulate", {
        action: "sub",
        topic: "$share/g1/sensors/x",
        username: "scout",
        policy: JSON.stringify(POLICY),
      }),
    );
    assert.equal(shared.decision.decision, "allow");
    assert.deepEqual(
      shared.platform_notes.map((note: { code: string }) => note.code),
      ["shared_subscription_refused"],
    );

    const tested = structured(
      await call(session.client, "acl_test", { policy_path: "policy.json" }),
    );
    assert.equal(tested.passed, 1);
    assert.equal(tested.failed, 0);
    assert.deepEqual(tested.unexercised.map((rule: { path: string }) => rule.path), ["rules[1]"]);

    const presets = structured(await call(session.client, "acl_presets"));
    assert.deepEqual(
      presets.presets.map((preset: { name: string }) => preset.name),
      ["permit-all", "notifications", "agent-pipelines", "chat-channels", "blank"],
    );
    assert.equal(presets.policy, null);
    const blank = structured(await call(session.client, "acl_presets", { name: "blank" }));
    assert.equal(blank.policy.default, "deny");
  } finally {
    await session.close();
    await dir.cleanup();
  }
});

Deno.test("an invalid policy gives its findings, not an error, in every tool that reads one", async () => {
  const session = await connectStdio({ args: ["--allow-writes"] });
  try {
    const calls: [string, Record<string, unknown>][] = [
      ["acl_simulate", { action: "pub", topic: "a/b", username: "u", policy: INVALID }],
      ["acl_test", { policy: INVALID }],
      ["acl_diff", { policy: INVALID }],
      ["acl_update_policy", { policy: INVALID, base_revision: 1 }],
    ];
    for (const [name, args] of calls) {
      const result = await call(session.client, name, args);
      assert.equal(result.isError, undefined, name);
      const content = structured(result);
      assert.equal(content.valid, false, name);
      assert.equal(content.policy_name, "<policy>");
      assert.ok(content.findings.some((finding: { line?: number }) => finding.line === 4), name);
      assert.match(textOf(result), /is not a valid policy/);
    }
  } finally {
    await session.close();
  }
});

Deno.test("tools that need a login say how to log in, naming --api-url when it is not the default", async () => {
  const dir = await tempDir();
  const defaults = await connectStdio({ env: serverEnv(dir.path) });
  const explicit = await connectStdio({
    env: serverEnv(dir.path, { CLOUDSIGNAL_API_URL: "http://127.0.0.1:9" }),
  });
  try {
    for (const name of ["whoami", "acl_get_policy", "acl_list_revisions", "user_list"]) {
      const result = await call(defaults.client, name);
      assert.equal(result.isError, true, name);
      assert.match(textOf(result), /^Not logged in\. Run `cloudsignal login` first/, name);
      const other = await call(explicit.client, name);
      assert.equal(other.isError, true, name);
      assert.match(
        textOf(other),
        /Not logged in to http:\/\/127\.0\.0\.1:9\. Run `cloudsignal login --api-url http:\/\/127\.0\.0\.1:9` first/,
      );
    }
    const claims = await call(defaults.client, "user_claims_show", { user: "dev" });
    assert.match(textOf(claims), /Not logged in/);
    const live = await call(defaults.client, "acl_simulate", {
      action: "sub",
      topic: "a",
      username: "u",
    });
    assert.match(textOf(live), /Not logged in/);
    await assert.rejects(
      defaults.client.readResource({ uri: "cloudsignal://policy/live" }),
      /Not logged in\. Run `cloudsignal login` first/,
    );
  } finally {
    await defaults.close();
    await explicit.close();
    await dir.cleanup();
  }
});

Deno.test("bad arguments are refused naming the argument; oversized input with its limit", async () => {
  const session = await connectStdio();
  try {
    const expectations: [string, Record<string, unknown>, RegExp][] = [
      ["acl_simulate", { action: "pub", username: "u", policy: "{}" }, /topic/],
      ["acl_simulate", { action: "publish", topic: "a", username: "u" }, /action/],
      [
        "acl_simulate",
        { action: "pub", topic: "a", username: "u", qos: 3 },
        /expected 0, 1 or 2 at qos/,
      ],
      [
        "acl_simulate",
        { action: "pub", topic: "a", username: "u", qos: "1" },
        /expected 0, 1 or 2 at qos/,
      ],
      ["acl_simulate", { action: "pub", topic: "a", username: "u", polciy: "{}" }, /polciy/],
      ["acl_simulate", { action: "pub", topic: "a", policy: "{}" }, /username/],
      [
        "acl_simulate",
        { action: "sub", topic: "a", username: "u", retain: true, policy: "{}" },
        /retain/,
      ],
      ["acl_validate", {}, /a policy is required: give policy/],
      [
        "acl_validate",
        { policy: "{}", policy_path: "p.json" },
        /policy and policy_path exclude each other/,
      ],
      ["acl_test", { policy_path: "-" }, /policy_path cannot be -/],
      ["acl_get_policy", { revision: -1 }, /revision/],
      ["acl_presets", { name: "everything" }, /name/],
      [
        "acl_validate",
        { policy_path: "/nonexistent/policy.json" },
        /cannot read \/nonexistent\/policy\.json: no such file/,
      ],
    ];
    for (const [name, args, message] of expectations) {
      const result = await call(session.client, name, args);
      assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}`);
      assert.match(textOf(result), message, `${name} ${JSON.stringify(args)}`);
    }
    const huge = `{"version":"2.2","default":"deny","description":"${
      "x".repeat(MAX_POLICY_FILE_BYTES)
    }"}`;
    const oversized = await call(session.client, "acl_validate", {
      policy: huge,
      local_only: true,
    });
    assert.equal(oversized.isError, true);
    assert.match(textOf(oversized), /<policy> is 32\.0 MiB; policy files are limited to 32\.0 MiB/);
    // The server is still serving.
    assert.equal(structured(await call(session.client, "acl_presets")).presets.length, 5);
  } finally {
    await session.close();
  }
});

Deno.test("concurrent calls are each answered with their own result", async () => {
  const session = await connectStdio();
  try {
    const policy = JSON.stringify(POLICY);
    const topics = Array.from({ length: 40 }, (_, i) => i % 2 ? `sensors/s${i}` : `other/s${i}`);
    const results = await Promise.all(
      topics.map((topic) =>
        call(session.client, "acl_simulate", { action: "sub", topic, username: "u", policy })
      ),
    );
    results.forEach((result, i) => {
      const content = structured(result);
      assert.equal(content.request.topic, topics[i]);
      assert.equal(content.decision.decision, i % 2 ? "allow" : "deny");
    });
  } finally {
    await session.close();
  }
});

/** An API that answers nothing: it records each request and when its client gave up. */
function silentApi() {
  const seen: { path: string; aborted: Promise<void> }[] = [];
  let arrived!: () => void;
  const first = new Promise<void>((resolve) => arrived = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const aborted = new Promise<void>((resolve) =>
      request.signal.addEventListener("abort", () => resolve())
    );
    seen.push({ path: new URL(request.url).pathname, aborted });
    arrived();
    return aborted.then(() => new Response(null, { status: 499 }));
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    first,
    close: () => server.shutdown(),
  };
}

Deno.test("a cancelled call stops its request; progress is reported when asked; the server goes on", async () => {
  const api = silentApi();
  const dir = await tempDir();
  const session = await connectStdio({
    env: serverEnv(dir.path, {
      CLOUDSIGNAL_API_URL: api.url,
      CLOUDSIGNAL_TOKEN: "a-test-token-0123456789",
    }),
  });
  try {
    const controller = new AbortController();
    const progress: string[] = [];
    const pending = session.client.callTool(
      { name: "acl_get_policy", arguments: {} },
      undefined,
      {
        signal: controller.signal,
        onprogress: (notification) => void progress.push(notification.message ?? ""),
      },
    );
    await api.first;
    controller.abort("the person changed their mind");
    await assert.rejects(pending);
    // The server stopped waiting for the API: the request was aborted from its side.
    await Promise.all(api.seen.map((request) => request.aborted));
    assert.deepEqual(progress, ["Fetching the policy…"]);
    const after = await call(session.client, "acl_presets");
    assert.equal(after.isError, undefined);
  } finally {
    await session.close();
    await api.close();
    await dir.cleanup();
  }
});

Deno.test("stdout carries protocol messages only, even with --debug", async () => {
  const lines = [
    INITIALIZE,
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
    { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "whoami", arguments: {} } },
    { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "acl_presets", arguments: {} } },
  ].map((message) => JSON.stringify(message)).join("\n") + "\n";
  const dir = await tempDir();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, "mcp", "--debug"],
      env: serverEnv(dir.path),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = output.stdin.getWriter();
    await writer.write(new TextEncoder().encode(lines));
    await writer.close();
    const { code, stdout, stderr } = await output.output();
    assert.equal(code, 0);
    const answers = new TextDecoder().decode(stdout).trimEnd().split("\n").map((line) =>
      JSON.parse(line)
    );
    assert.deepEqual(answers.map((answer) => answer.id).sort(), [1, 2, 3, 4]);
    for (const answer of answers) assert.equal(answer.jsonrpc, "2.0");
    const log = new TextDecoder().decode(stderr);
    assert.match(log, /CloudSignal MCP server .* on stdio \(read-only\)/);
    assert.match(log, /debug: tools\/call acl_presets → ok/);
  } finally {
    await dir.cleanup();
  }
});

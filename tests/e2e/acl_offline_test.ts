import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/cli.ts";

const AGENT_CARD = new URL("../../examples/agent-card.json", import.meta.url).pathname;
const SIMULATE = [
  "acl",
  "simulate",
  "--policy",
  AGENT_CARD,
  "--username",
  "scout",
  "--claim",
  "agent_id=scout",
];

/** No stack trace reached the user. */
function assertNoStack(stderr: string) {
  assert.doesNotMatch(stderr, /^\s+at .*:\d+:\d+\)?$/m, stderr);
  assert.doesNotMatch(stderr, /Uncaught|TypeError|RangeError/, stderr);
}

async function withFile(
  name: string,
  content: string | Uint8Array,
  run: (path: string, dir: string) => Promise<void>,
) {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/${name}`;
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
    await run(path, dir.path);
  } finally {
    await dir.cleanup();
  }
}

Deno.test("acl validate: a valid policy, the documented summary, exit 0", async () => {
  const result = await runCli(["acl", "validate", AGENT_CARD, "--local-only"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "✓ Policy is valid (1 rule, 1 global rule, 1 publisher)\n");
  assert.equal(result.stderr, "");
});

Deno.test("acl validate: errors in the documented form with their place, exit 1", async () => {
  const policy = JSON.stringify(
    {
      version: "2.2",
      default: "deny",
      global: [{ topic: "x", action: "read" }],
      rules: [{ topic: "chat/{channel}/#", action: "sub" }, { topic: "a", action: "pub" }],
    },
    null,
    2,
  );
  await withFile("policy.json", policy, async (path) => {
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout,
      [
        "✗ Policy has errors:",
        '  error: global[0] - invalid action "read" (must be sub, pub, or pub+sub)',
        `    at ${path}:7:17`,
        '          "action": "read"',
        "                    ^",
        "  warning: rules[0] - channel binding without require_grant",
        `    at ${path}:11:5`,
        "        {",
        "        ^",
        "",
      ].join("\n"),
    );
    const json = await runCli(["acl", "validate", path, "--local-only", "--json"]);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.valid, false);
    assert.deepEqual(report.counts, { global: 1, rules: 2, publishers: 0, tests: 0 });
    assert.deepEqual(
      report.findings.map((
        f: Record<string, unknown>,
      ) => [f.severity, f.code, f.pointer, f.line, f.column]),
      [["error", "invalid_action", "/global/0/action", 7, 17], [
        "warning",
        "channel_without_require_grant",
        "/rules/0",
        11,
        5,
      ]],
    );
  });
});

Deno.test("acl validate without --local-only and without a login: the local report, then exit 4", async () => {
  const dir = await tempDir();
  try {
    const result = await runCli(["acl", "validate", AGENT_CARD], {
      env: { CLOUDSIGNAL_HOME: dir.path },
    });
    assert.equal(result.code, 4);
    assert.equal(
      result.stdout,
      "✓ The local stage passed (1 rule, 1 global rule, 1 publisher); the server stage was skipped\n",
    );
    assert.doesNotMatch(result.stdout + result.stderr, /Policy is valid/);
    assert.match(result.stderr, /the server stage of validation was skipped: not logged in/);
    assert.match(result.stderr, /cloudsignal login/);
    assert.match(result.stderr, /--local-only/);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("acl validate: warnings alone still exit 0", async () => {
  const policy = JSON.stringify({
    version: "2.2",
    default: "allow",
    rules: [{ topic: "a", action: "pub" }],
  });
  await withFile("p.json", policy, async (path) => {
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 0);
    assert.match(
      result.stdout,
      /^✓ Policy is valid \(1 rule, 0 global rules, 0 publishers\)\n {2}warning: default - default "allow"/,
    );
  });
});

Deno.test("bad input: truncated JSON gets the line and column, exit 1", async () => {
  await withFile(
    "p.json",
    '{\n  "version": "2.2",\n  "default": "deny",\n  "rules": [\n',
    async (path) => {
      const result = await runCli(["acl", "validate", path, "--local-only"]);
      assert.equal(result.code, 1);
      assert.match(
        result.stdout,
        /error: \(root\) - invalid JSON: expected a value .* but found the end of the file\n {4}at .*p\.json:5:1\n/,
      );
      assertNoStack(result.stderr);
    },
  );
});

Deno.test("bad input: wrong types and unknown fields", async () => {
  const policy =
    '{"version": "2.2", "default": "deny", "rules": [{"topic": 7, "action": "pub", "efect": "deny"}]}';
  await withFile("p.json", policy, async (path) => {
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /error: rules\[0\] - "topic" must be a string, not the number 7/);
    assert.match(
      result.stdout,
      /error: rules\[0\] - unknown field "efect" \(did you mean "effect"\?\)\n {4}at .*:1:79/,
    );
  });
});

Deno.test("bad input: a file over the size limit is refused before it is read", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/huge.json`;
    const file = await Deno.open(path, { write: true, create: true });
    await file.truncate(33 * 1024 * 1024);
    file.close();
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Error: ${path} is 33.0 MiB; policy files are limited to 32.0 MiB\n`,
    );
    assert.equal(result.stdout, "");
  } finally {
    await dir.cleanup();
  }
});

Deno.test("bad input: too much on stdin is refused while streaming", async () => {
  const result = await runCli(["acl", "validate", "-", "--local-only"], {
    stdin: new Uint8Array(33 * 1024 * 1024).fill(0x20),
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^Error: <stdin> is over 32\.0 MiB; policy files are limited to 32\.0 MiB\n$/,
  );
});

Deno.test("stdin: - reads the policy from standard input", async () => {
  const result = await runCli(["acl", "validate", "-", "--local-only"], {
    stdin: await Deno.readTextFile(AGENT_CARD),
  });
  assert.equal(result.code, 0);
  assert.match(result.stdout, /✓ Policy is valid/);
});

Deno.test("bad input: bytes that are not UTF-8 are placed by line and column", async () => {
  const bytes = new TextEncoder().encode('{\n  "version": "2.2",\n  "description": "caf');
  const content = new Uint8Array([...bytes, 0xe9, ...new TextEncoder().encode('"\n}\n')]);
  await withFile("latin1.json", content, async (path) => {
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /error: \(root\) - the file is not valid UTF-8 \(byte 0xE9 at offset 43\); save it as UTF-8\n {4}at .*latin1\.json:3:22/,
    );
  });
  const utf16 = new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]);
  await withFile("utf16.json", utf16, async (path) => {
    const result = await runCli(["acl", "validate", path, "--local-only"]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /the file is UTF-16; save it as UTF-8/);
  });
});

Deno.test("bad input: deeply nested arrays are an error, not a crash", async () => {
  await withFile(
    "deep.json",
    `{"version": "2.2", "default": "deny", "x": ${"[".repeat(50_000)}`,
    async (path) => {
      const result = await runCli(["acl", "validate", path, "--local-only"]);
      assert.equal(result.code, 1);
      assert.match(
        result.stdout,
        /invalid JSON: nesting is deeper than 64 levels\n {4}at .*deep\.json:1:/,
      );
      assertNoStack(result.stderr);
    },
  );
});

Deno.test("bad input: a directory, a missing file", async () => {
  const dir = await tempDir();
  try {
    const asDirectory = await runCli(["acl", "validate", dir.path, "--local-only"]);
    assert.equal(asDirectory.code, 1);
    assert.equal(
      asDirectory.stderr,
      `Error: ${dir.path} is a directory; expected a policy JSON file\n`,
    );
    const missing = await runCli(["acl", "test", `${dir.path}/nope.json`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `Error: cannot read ${dir.path}/nope.json: no such file\n`);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("usage errors exit 2 with a message naming the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["acl", "validate"], /missing required argument 'file'/],
    [["acl", "validate", AGENT_CARD, "--frobnicate"], /unknown option '--frobnicate'/],
    [[...SIMULATE, "--topic", "a"], /required option '--action <action>' not specified/],
    [[...SIMULATE, "--topic", "a", "--action", "read"], /argument 'read' is invalid.*pub, sub/],
    [
      [...SIMULATE, "--topic", "a", "--action", "pub", "--qos", "3"],
      /--qos must be 0, 1 or 2 \(got "3"\)/,
    ],
    [
      [...SIMULATE, "--topic", "a", "--action", "pub", "--claim", "novalue"],
      /--claim "novalue" needs the form key=value/,
    ],
    [
      [...SIMULATE, "--topic", "a", "--action", "sub", "--retain"],
      /--retain applies to publishes only/,
    ],
    [["acl", "init", "--preset", "everything"], /argument 'everything' is invalid.*permit-all/],
    [["acl", "frob"], /unknown command 'frob'/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
    assert.match(result.stderr, /^Error: /);
    assertNoStack(result.stderr);
  }
});

Deno.test("acl simulate: the documented verdicts", async () => {
  const allowed = await runCli([...SIMULATE, "--action", "pub", "--topic", "agents/scout/card"]);
  assert.equal(allowed.code, 0);
  assert.equal(
    allowed.stdout,
    `Allowed - matches rules[0] (agents/{$self}/card resolves to agents/scout/card which matches agents/scout/card)\n  at ${AGENT_CARD}:7\n`,
  );
  const denied = await runCli([...SIMULATE, "--action", "pub", "--topic", "agents/bob/card"]);
  assert.equal(denied.code, 0);
  assert.equal(denied.stdout, "Denied - no rule matches (default: deny)\n");
  const subscribed = await runCli([
    ...SIMULATE,
    "--action",
    "sub",
    "--topic",
    "broadcast/#",
    "--qos",
    "2",
  ]);
  assert.equal(
    subscribed.stdout,
    `Allowed - matches global[0] (broadcast/# matches broadcast/#)\n  granted QoS 2\n  at ${AGENT_CARD}:6\n`,
  );
});

Deno.test("acl simulate: --exit-status, --json and --trace", async () => {
  const denied = await runCli([
    ...SIMULATE,
    "--action",
    "pub",
    "--topic",
    "agents/bob/card",
    "--exit-status",
  ]);
  assert.equal(denied.code, 3);
  const allowed = await runCli([
    ...SIMULATE,
    "--action",
    "pub",
    "--topic",
    "agents/scout/card",
    "--exit-status",
  ]);
  assert.equal(allowed.code, 0);
  const json = await runCli([
    ...SIMULATE,
    "--action",
    "pub",
    "--topic",
    "agents/scout/card",
    "--json",
  ]);
  const decision = JSON.parse(json.stdout);
  assert.equal(decision.decision, "allow");
  assert.equal(decision.reason, "rule");
  assert.deepEqual(decision.matched, {
    section: "rules",
    index: 0,
    pointer: "/rules/0",
    line: 7,
    topic: "agents/{$self}/card",
    resolved_topic: "agents/scout/card",
  });
  assert.equal(decision.granted_qos, 0);
  assert.deepEqual(decision.trace[0], {
    pointer: "/global/0",
    applies: false,
    effect: "allow",
    why: "action sub does not cover pub",
  });
  const traced = await runCli([
    ...SIMULATE,
    "--action",
    "pub",
    "--topic",
    "agents/scout/card",
    "--trace",
  ]);
  assert.match(
    traced.stdout,
    /Rules:\n {4}- {3}\/global\/0 {2}action sub does not cover pub\n {2}allow \/rules\/0 {2}agents/,
  );
});

Deno.test("acl simulate refuses an invalid policy with its findings", async () => {
  await withFile(
    "bad.json",
    '{"version": "2.2", "default": "deny", "rules": [{"topic": "a/#/b", "action": "pub"}]}',
    async (path) => {
      const result = await runCli([
        "acl",
        "simulate",
        "--policy",
        path,
        "--username",
        "u",
        "--action",
        "pub",
        "--topic",
        "a",
      ]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.match(
        result.stderr,
        /✗ Policy has errors:\n {2}error: rules\[0\] - invalid topic "a\/#\/b"/,
      );
      assert.match(
        result.stderr,
        /Error: .*bad\.json is not a valid policy; fix the errors above first\n$/,
      );
    },
  );
});

Deno.test("acl test: passing tests, failing tests with explanations, unexercised rules", async () => {
  const passing = await runCli(["acl", "test", AGENT_CARD]);
  assert.equal(passing.code, 0, passing.stdout + passing.stderr);
  assert.match(passing.stdout, /✓ scout owns its card\n/);
  assert.match(passing.stdout, /7 tests: 7 passed, 0 failed\n$/);

  const policy = JSON.stringify(
    {
      version: "2.2",
      default: "deny",
      rules: [{ topic: "a/#", action: "pub" }, { topic: "b", action: "sub" }],
      tests: [
        {
          name: "publish a",
          client: { username: "u" },
          action: "pub",
          topic: "a/x",
          expect: "allow",
        },
        {
          name: "wrongly expects deny",
          client: { username: "u" },
          action: "pub",
          topic: "a/y",
          expect: "deny",
        },
      ],
    },
    null,
    2,
  );
  await withFile("p.json", policy, async (path) => {
    const result = await runCli(["acl", "test", path]);
    assert.equal(result.code, 3);
    assert.match(
      result.stdout,
      /✗ wrongly expects deny \(.*p\.json:\d+\)\n {4}expected deny, got allow\n {4}Allowed - matches rules\[0\] \(a\/# matches a\/y\)\n/,
    );
    assert.match(result.stdout, /2 tests: 1 passed, 1 failed\n/);
    assert.match(result.stdout, /Rules no test exercised:\n {2}rules\[1\] b \(.*p\.json:\d+\)\n$/);
    const json = JSON.parse((await runCli(["acl", "test", path, "--json"])).stdout);
    assert.equal(json.failed, 1);
    assert.deepEqual(json.unexercised.map((rule: { pointer: string }) => rule.pointer), [
      "/rules/1",
    ]);
  });
});

Deno.test("acl init: every preset validates and passes its tests; files are never overwritten silently", async () => {
  const dir = await tempDir();
  try {
    for (
      const preset of ["permit-all", "notifications", "agent-pipelines", "chat-channels", "blank"]
    ) {
      const path = `${dir.path}/${preset}.json`;
      const init = await runCli(["acl", "init", "--preset", preset, "--output", path]);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stderr, new RegExp(`Wrote .*${preset}\\.json: preset ${preset}`));
      const validate = await runCli(["acl", "validate", path, "--local-only", "--json"]);
      const report = JSON.parse(validate.stdout);
      assert.equal(report.valid, true, `${preset}: ${validate.stdout}`);
      const test = await runCli(["acl", "test", path]);
      assert.equal(test.code, 0, `${preset}: ${test.stdout}`);
      if (preset !== "blank") assert.doesNotMatch(test.stdout, /Rules no test exercised/, preset);
    }
    const path = `${dir.path}/permit-all.json`;
    await Deno.writeTextFile(path, "mine");
    const again = await runCli(["acl", "init", "--preset", "blank", "--output", path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; nothing was written\nUse --force/);
    assert.equal(await Deno.readTextFile(path), "mine");
    const forced = await runCli(["acl", "init", "--preset", "blank", "--output", path, "--force"]);
    assert.equal(forced.code, 0);
    assert.match(await Deno.readTextFile(path), /"version": "2.2"/);
    const toStdout = await runCli(["acl", "init", "--preset", "notifications", "-o", "-"]);
    assert.equal(JSON.parse(toStdout.stdout).version, "2.2");
    assert.match(toStdout.stdout, /"qos": \[0, 1\]/);
    const noDir = await runCli([
      "acl",
      "init",
      "--preset",
      "blank",
      "-o",
      `${dir.path}/missing/p.json`,
    ]);
    assert.equal(noDir.code, 1);
    assert.match(noDir.stderr, /cannot write .*: its directory does not exist/);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("the dashboard editor's format is refused with how to convert it", async () => {
  await withFile(
    "dash.json",
    JSON.stringify({ rules: [{ user: "*", topic: "a/#", permission: "both" }] }),
    async (path) => {
      const result = await runCli(["acl", "validate", path, "--local-only"]);
      assert.equal(result.code, 1);
      assert.match(result.stdout, /error: \(root\) - this is the dashboard editor's format/);
    },
  );
});

/**
 * What `policy_path` may name over MCP: a policy file, never the CLI's own state (the
 * credential store under any name, the local platform's data) and never a device or a pipe
 * (`/dev/stdin` is the protocol's own input: reading it hung the server). The tools still
 * read policy files anywhere else, and the server keeps answering after a refusal.
 */

import assert from "node:assert/strict";
import { tempDir } from "../support/cli.ts";
import { AGENT_CARD_RULE, call, connectStdio, serverEnv, structured, textOf } from "./support.ts";

const ACCESS = "access-token-never-read-by-mcp-0123456789";
const REFRESH = "refresh-token-never-read-by-mcp-0123456789";
const POLICY = { version: "2.2", default: "deny", rules: [AGENT_CARD_RULE] };
const POSIX = Deno.build.os !== "windows";

/** A credential store in the format the CLI writes, with recognizable tokens. */
function storeText(): string {
  const api = "http://127.0.0.1:1";
  return JSON.stringify(
    {
      version: 1,
      current_api_url: api,
      current: { [api]: "org-1" },
      sessions: [{
        api_url: api,
        organization: { id: "org-1", short_id: "o1", name: "Org" },
        user: { id: "u-1", email: "ada@example.com", username: "ada" },
        client_id: "cloudsignal-cli",
        token_endpoint: `${api}/oauth/token`,
        revocation_endpoint: null,
        access_token: ACCESS,
        access_token_expires_at: null,
        refresh_token: REFRESH,
        refresh_token_expires_at: null,
        scope: null,
        created_at: "2026-01-01T00:00:00Z",
        issued_at: "2026-01-01T00:00:00Z",
      }],
    },
    null,
    2,
  );
}

/** Calls a tool, failing instead of waiting forever for a server that stopped answering. */
async function callWithin(
  session: Awaited<ReturnType<typeof connectStdio>>,
  name: string,
  args: Record<string, unknown>,
) {
  return await session.client.callTool({ name, arguments: args }, undefined, { timeout: 15_000 });
}

Deno.test("policy_path never reads the credential store or the state directory, under any name", async () => {
  const dir = await tempDir();
  const home = `${dir.path}/home`;
  await Deno.mkdir(`${home}/dev`, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${home}/credentials.json`, storeText(), { mode: 0o600 });
  await Deno.writeTextFile(`${home}/dev/platform.json`, JSON.stringify(POLICY));
  await Deno.writeTextFile(`${dir.path}/policy.json`, JSON.stringify(POLICY));
  const paths = [
    `${home}/credentials.json`,
    "home/credentials.json",
    "./home/../home//credentials.json",
    `${home}/dev/platform.json`,
  ];
  if (POSIX) {
    await Deno.symlink(`${home}/credentials.json`, `${dir.path}/innocent.json`);
    await Deno.symlink(home, `${dir.path}/linked-home`);
    await Deno.link(`${home}/credentials.json`, `${dir.path}/hard-link.json`);
    paths.push("innocent.json", "linked-home/credentials.json", "hard-link.json");
  }
  const session = await connectStdio({ env: serverEnv(home), cwd: dir.path });
  try {
    for (const path of paths) {
      for (
        const [tool, extra] of [
          ["acl_validate", { local_only: true }],
          ["acl_test", {}],
          ["acl_diff", {}],
          ["acl_simulate", { action: "pub", topic: "a", username: "ada" }],
        ] as const
      ) {
        const result = await call(session.client, tool, { policy_path: path, ...extra });
        const all = JSON.stringify(result);
        assert.equal(result.isError, true, `${tool} ${path}: ${all}`);
        assert.match(textOf(result), /is in the cloudsignal state directory/, `${tool} ${path}`);
        // Nothing of the file comes back: not its tokens, not even its field names.
        for (const secret of [ACCESS, REFRESH, "sessions", "current_api_url"]) {
          assert.equal(all.includes(secret), false, `${tool} ${path} returned ${secret}`);
        }
      }
    }
    // A policy file elsewhere is read as before.
    const valid = structured(
      await call(session.client, "acl_validate", { policy_path: "policy.json", local_only: true }),
    );
    assert.equal(valid.valid, true);
  } finally {
    await session.close();
    await dir.cleanup();
  }
  assert.equal(session.stderr().includes(ACCESS), false);
});

Deno.test({
  name: "policy_path refuses devices and pipes: /dev/stdin does not take the protocol's input",
  ignore: !POSIX,
  fn: async () => {
    const dir = await tempDir();
    const fifo = `${dir.path}/policy.fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(made.success, true);
    const session = await connectStdio({ cwd: dir.path });
    try {
      for (const path of ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", fifo, "/dev/zero"]) {
        const exists = await Deno.stat(path).then(() => true, () => false);
        if (!exists) continue;
        const result = await callWithin(session, "acl_validate", {
          policy_path: path,
          local_only: true,
        });
        assert.equal(result.isError, true, `${path}: ${JSON.stringify(result)}`);
        assert.match(textOf(result), /is not a regular file/, path);
      }
      // The protocol is intact: the next call is answered.
      const after = structured(
        await callWithin(session, "acl_validate", {
          policy: JSON.stringify(POLICY),
          local_only: true,
        }),
      );
      assert.equal(after.valid, true);
    } finally {
      await session.close();
      await dir.cleanup();
    }
  },
});

Deno.test("a file that is not a policy comes back as findings without its content", async () => {
  const dir = await tempDir();
  const key = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
  await Deno.writeTextFile(
    `${dir.path}/id_ed25519`,
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${key}\n-----END OPENSSH PRIVATE KEY-----\n`,
  );
  await Deno.writeTextFile(`${dir.path}/.env`, "API_KEY=sk-live-0123456789abcdef\n");
  const session = await connectStdio({ cwd: dir.path });
  try {
    for (const path of ["id_ed25519", ".env"]) {
      for (
        const [tool, extra] of [["acl_validate", { local_only: true }], ["acl_test", {}]] as const
      ) {
        const result = await call(session.client, tool, { policy_path: path, ...extra });
        const all = JSON.stringify(result);
        assert.equal(structured(result).valid, false, `${tool} ${path}`);
        for (const secret of [key, "OPENSSH PRIVATE", "API_KEY", "sk-live"]) {
          assert.equal(all.includes(secret), false, `${tool} ${path} returned ${secret}`);
        }
      }
    }
  } finally {
    await session.close();
    await dir.cleanup();
  }
});

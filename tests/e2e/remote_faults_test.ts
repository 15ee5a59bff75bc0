/**
 * The API misbehaving, with a real HTTP server on 127.0.0.1 that answers as told: stopped,
 * slow, failing then recovering, rate limiting, answering garbage. Each case checks the
 * message, the exit code, that no stack trace shows, and that no partial file is written.
 */

import assert from "node:assert/strict";
import { runCli, tempDir } from "../support/cli.ts";

const POLICY = { version: "2.2", default: "deny", rules: [{ topic: "a", action: "pub" }] };
const ME = {
  user_id: "u1",
  username: "dev",
  email: "dev@example.com",
  organization: { id: "org-1", short_id: "o1", name: "Faulty" },
};

type Handler = (request: Request, count: number) => Response | Promise<Response>;

/** A server answering `/v2/me` normally and everything else with `handler`. */
async function withServer(
  handler: Handler,
  run: (apiUrl: string, seen: { method: string; path: string }[]) => Promise<void>,
) {
  const seen: { method: string; path: string }[] = [];
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/v2/me") return Response.json(ME);
    seen.push({ method: request.method, path });
    return handler(request, ++count);
  });
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

function policyResponse() {
  return Response.json(POLICY, { headers: { etag: '"7"' } });
}

async function cli(apiUrl: string, args: string[], env: Record<string, string> = {}) {
  const home = await tempDir();
  try {
    const result = await runCli(args, {
      env: {
        CLOUDSIGNAL_API_URL: apiUrl,
        CLOUDSIGNAL_TOKEN: "test-token",
        CLOUDSIGNAL_HOME: home.path,
        ...env,
      },
    });
    assert.doesNotMatch(result.stderr, /^\s+at .*:\d+:\d+/m, "no stack trace");
    assert.doesNotMatch(result.stderr + result.stdout, /test-token/, "the token is never printed");
    return result;
  } finally {
    await home.cleanup();
  }
}

Deno.test("the API is stopped: exit 5 naming the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const result = await cli(`http://127.0.0.1:${port}`, ["acl", "get"]);
  assert.equal(result.code, 5);
  assert.match(
    result.stderr,
    new RegExp(`^Error: cannot reach 127\\.0\\.0\\.1:${port}: connection refused\\n`),
  );
  assert.equal(result.stdout, "");
});

Deno.test("the API is slow: the request times out with exit 5", async () => {
  await withServer(async () => {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    return policyResponse();
  }, async (apiUrl, seen) => {
    const result = await cli(apiUrl, ["acl", "get"], { CLOUDSIGNAL_TIMEOUT: "0.3" });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /^Error: 127\.0\.0\.1:\d+ did not answer within 0\.3 s\n/);
    assert.equal(seen.length, 1, "a timed-out request is not repeated");
  });
  const bad = await cli("http://127.0.0.1:9", ["acl", "get"], { CLOUDSIGNAL_TIMEOUT: "soon" });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /CLOUDSIGNAL_TIMEOUT must be a number of seconds \(got "soon"\)/);
});

Deno.test("500 then 200: a GET is retried and succeeds; a lasting failure is reported", async () => {
  for (const status of [500, 502]) {
    await withServer(
      (_request, count) => count === 1 ? new Response("trouble", { status }) : policyResponse(),
      async (apiUrl, seen) => {
        const result = await cli(apiUrl, ["acl", "get", "--compact"]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout), { $revision: 7, ...POLICY });
        assert.deepEqual(seen.map((request) => request.method), ["GET", "GET"]);
      },
    );
  }
  await withServer(
    () => Response.json({ error: "internal", message: "boom" }, { status: 500 }),
    async (apiUrl, seen) => {
      const result = await cli(apiUrl, ["acl", "get"]);
      assert.equal(result.code, 5);
      assert.match(
        result.stderr,
        /^Error: 127\.0\.0\.1:\d+ failed to fetch the policy \(HTTP 500: boom\)\nTried 4 times over \d(\.\d)? s\. The service is having trouble; try again later\.\n$/,
      );
      assert.equal(seen.length, 4, "one attempt and three retries");
    },
  );
});

Deno.test("a failing PUT is never retried", async () => {
  const dir = await tempDir();
  try {
    const file = `${dir.path}/p.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ $revision: 7, ...POLICY, rules: [{ topic: "b", action: "pub" }] }),
    );
    await withServer(
      (request) =>
        request.method === "PUT"
          ? new Response("trouble", { status: 500 })
          : request.method === "POST"
          ? Response.json({ findings: [] })
          : policyResponse(),
      async (apiUrl, seen) => {
        const result = await cli(apiUrl, ["acl", "update", file, "--yes"]);
        assert.equal(result.code, 5);
        assert.match(
          result.stderr,
          /^Error: 127\.0\.0\.1:\d+ failed to update the policy \(HTTP 500\)\n/,
        );
        assert.equal(seen.filter((request) => request.method === "PUT").length, 1);
      },
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("429 with Retry-After: the GET waits and retries; too long a wait is reported", async () => {
  await withServer(
    (_request, count) =>
      count === 1
        ? Response.json({ error: "rate_limited", message: "slow down" }, {
          status: 429,
          headers: { "retry-after": "1" },
        })
        : policyResponse(),
    async (apiUrl, seen) => {
      const result = await cli(apiUrl, ["acl", "get"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(seen.length, 2);
    },
  );
  await withServer(
    () =>
      Response.json({ error: "rate_limited", message: "slow down" }, {
        status: 429,
        headers: { "retry-after": "3600" },
      }),
    async (apiUrl, seen) => {
      const result = await cli(apiUrl, ["acl", "get"]);
      assert.equal(result.code, 5);
      assert.match(
        result.stderr,
        /is limiting requests and refused to fetch the policy: slow down\nIt asked to retry after 3600 s, longer than a command waits \(30 s\): try again in 3600 s\.\n/,
      );
      assert.equal(seen.length, 1, "an hour is not waited for");
    },
  );
});

Deno.test("a body that is not JSON: exit 5, and no partial file is written", async () => {
  const dir = await tempDir();
  try {
    const file = `${dir.path}/policy.json`;
    await Deno.writeTextFile(file, "my earlier copy\n");
    await withServer(
      () => new Response("<html>oops</html>", { status: 200, headers: { etag: '"1"' } }),
      async (apiUrl) => {
        const result = await cli(apiUrl, ["acl", "get", "-o", file]);
        assert.equal(result.code, 5);
        assert.match(
          result.stderr,
          /answered .*\/v2\/acl\/policy with HTTP 200 and a body that is not JSON/,
        );
      },
    );
    await withServer(() => new Response("nope", { status: 503 }), async (apiUrl) => {
      const result = await cli(apiUrl, ["acl", "get", "-o", `${dir.path}/new.json`]);
      assert.equal(result.code, 5);
    });
    assert.equal(
      await Deno.readTextFile(file),
      "my earlier copy\n",
      "the existing file is untouched",
    );
    assert.deepEqual([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["policy.json"]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("refusals are mapped: 403 and 404 exit 1, a rejected token exits 4", async () => {
  await withServer(
    () => Response.json({ error: "forbidden", message: "read-only member" }, { status: 403 }),
    async (apiUrl) => {
      const result = await cli(apiUrl, ["acl", "get"]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^Error: your account may not fetch the policy: read-only member\n/,
      );
    },
  );
  await withServer(() => new Response("not here", { status: 404 }), async (apiUrl) => {
    const result = await cli(apiUrl, ["acl", "revisions"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /has no \/v2\/acl\/revisions \(HTTP 404\)\nIs the API URL right/);
  });
  await withServer(
    () => Response.json({ error: "invalid_token", message: "expired" }, { status: 401 }),
    async (apiUrl) => {
      const result = await cli(apiUrl, ["acl", "get"]);
      assert.equal(result.code, 4);
      assert.match(result.stderr, /CLOUDSIGNAL_TOKEN/);
    },
  );
});

Deno.test("credentials are never sent to a plain-http API that is not on this machine", async () => {
  for (
    const url of [
      "http://api.cloudsignal.io",
      "http://192.0.2.7:8080",
      "https://user:pw@api.example.test",
    ]
  ) {
    const result = await cli(url, ["acl", "get"]);
    assert.equal(result.code, 1, url);
    assert.match(
      result.stderr,
      /refusing to send credentials to .*: the API URL must use https|must not hold a user, password/,
      url,
    );
  }
});

Deno.test("control characters in server messages never reach the terminal", async () => {
  await withServer(
    () =>
      Response.json({
        error: "forbidden",
        message: "no\u001b[2J\u001b]0;owned\u0007\u009b31m FAKE",
      }, { status: 403 }),
    async (apiUrl) => {
      const result = await cli(apiUrl, ["acl", "get"]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /your account may not fetch the policy: no \[2J ]0;owned 31m FAKE/,
      );
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(result.stderr, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    },
  );
});

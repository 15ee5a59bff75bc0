/**
 * A small fake CloudSignal API on 127.0.0.1 for end-to-end tests of what the CLI does with
 * odd answers: each test says how to answer, and sees every request. Used with
 * CLOUDSIGNAL_TOKEN, so no login is needed.
 */

import { runCli, tempDir } from "../support/cli.ts";
import type { CliResult } from "../support/cli.ts";

/** A well-formed `/v2/me` body. */
export const ME = {
  user_id: "u-1",
  username: "dev",
  email: "dev@example.com",
  organization: { id: "org-1", short_id: "o1", name: "Fake" },
};

/** A small valid policy. */
export const POLICY = {
  version: "2.2",
  default: "deny",
  rules: [{ topic: "sensors/#", action: "sub" }],
};

/** What the fake answers: `null` falls back to a well-formed answer. */
export type Answer = (request: Request, path: string) => Response | null | Promise<Response | null>;

function standard(path: string): Response {
  if (path === "/v2/me") return Response.json(ME);
  if (path === "/v2/acl/policy") return Response.json(POLICY, { headers: { etag: '"7"' } });
  return Response.json({ error: "not_found", message: `no ${path}` }, { status: 404 });
}

/** A running fake API and a CLI pointed at it. */
export interface FakeApi {
  apiUrl: string;
  /** Method and path of every request, in order. */
  requests: string[];
  /** Runs the CLI against the fake with a token and a fresh CLOUDSIGNAL_HOME. */
  cli(args: string[], options?: { cwd?: string }): Promise<CliResult>;
}

/** Runs `test` with a fake API answering through `answer`. */
export async function withFakeApi(answer: Answer, test: (api: FakeApi) => Promise<void>) {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      requests.push(`${request.method} ${path}`);
      return (await answer(request, path)) ?? standard(path);
    },
  );
  const home = await tempDir();
  const apiUrl = `http://127.0.0.1:${server.addr.port}`;
  try {
    await test({
      apiUrl,
      requests,
      cli: (args, options = {}) =>
        runCli(args, {
          cwd: options.cwd,
          env: {
            CLOUDSIGNAL_API_URL: apiUrl,
            CLOUDSIGNAL_TOKEN: "test-token",
            CLOUDSIGNAL_HOME: home.path,
          },
        }),
    });
  } finally {
    await server.shutdown();
    await home.cleanup();
  }
}

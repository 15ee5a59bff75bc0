/** Test support for `cloudsignal mcp --http`: the running server, and the SDK's client on it. */

import { type RunningCli, spawnCli } from "../auth/support/login_flow.ts";
import { Client, StreamableHTTPClientTransport } from "./support.ts";

/** A running `cloudsignal mcp --http` and what its banner said. */
export interface HttpServer {
  cli: RunningCli;
  url: string;
  port: number;
  secret: string;
  stop(): Promise<string>;
}

/** Starts `cloudsignal mcp --http --port 0 …` and reads its URL and secret from stderr. */
export async function startHttpServer(
  args: string[],
  env: Record<string, string>,
): Promise<HttpServer> {
  const cli = spawnCli(["mcp", "--http", "--port", "0", ...args], env);
  const [, url, port] = await cli.waitForStderr(/ at (http:\/\/127\.0\.0\.1:(\d+)\/mcp)\n/);
  const [, secret] = await cli.waitForStderr(/Bearer <secret>"\): (\S+)\n/);
  return {
    cli,
    url,
    port: Number(port),
    secret,
    stop: async () => {
      cli.child.kill("SIGTERM");
      const result = await cli.result();
      return result.stderr;
    },
  };
}

/** Connects the SDK's client over Streamable HTTP with the bearer secret. */
export async function connectHttp(server: HttpServer, capabilities = {}): Promise<Client> {
  const client = new Client({ name: "cloudsignal-tests", version: "1.0.0" }, { capabilities });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${server.secret}` } },
    }),
  );
  return client;
}

/**
 * End-to-end support for the auth tests: the local platform on free ports, the real CLI as
 * a child process whose stderr can be awaited line by line, and headless Chromium signing
 * in on the platform's real login page.
 */

import { chromium } from "npm:playwright-core@1.65.1";
import { type RunningPlatform, startPlatform } from "../../../src/platform/mod.ts";
import { type CliResult, MAIN } from "../../support/cli.ts";
import {
  credentialsLocation,
  type StoredSession,
  updateCredentials,
  withSession,
} from "../../../src/auth/credentials.ts";

/** The seeded user's password in these tests. */
export const PASSWORD = "correct horse battery staple";
/** The seeded user's email in these tests. */
export const EMAIL = "ada@example.com";

/** A platform for one test, with its temporary directory. */
export interface TestPlatform {
  platform: RunningPlatform;
  logs: string[];
  close(): Promise<void>;
}

/** Starts the platform in-process on free ports with a seeded user. */
export async function startTestPlatform(
  options: { accessTokenTtlSeconds?: number } = {},
): Promise<TestPlatform> {
  const dataDir = await Deno.makeTempDir({ prefix: "cloudsignal-auth-platform-" });
  const logs: string[] = [];
  const platform = await startPlatform({
    dataDir,
    apiPort: 0,
    mqttPort: 0,
    email: EMAIL,
    password: PASSWORD,
    log: (line) => logs.push(line),
    logAllowedPublishes: false,
    ...options,
  });
  return {
    platform,
    logs,
    close: async () => {
      await platform.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Environment for a CLI child: isolated home, no colour, the given API. */
export function cliEnv(home: string, apiUrl: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    CLOUDSIGNAL_HOME: home,
    CLOUDSIGNAL_API_URL: apiUrl,
  };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** A running CLI process. */
export interface RunningCli {
  child: Deno.ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr match of `pattern` (rejects when the CLI ends first). */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Waits for the exit and returns everything. */
  result(): Promise<CliResult>;
}

/** Starts `cloudsignal <args>` with `env` (no inherited environment). */
export function spawnCli(args: string[], env: Record<string, string>): RunningCli {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((wake) => wake());
  const pump = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      wake();
    }
  };
  const pumps = Promise.all([
    pump(child.stdout, (text) => (stdout += text)),
    pump(child.stderr, (text) => (stderr += text)),
  ]);
  const status = child.status.then(async (status) => {
    await pumps;
    ended = true;
    wake();
    return status;
  });
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 120_000);
  return {
    child,
    stderr: () => stderr,
    waitForStderr: async (pattern) => {
      for (;;) {
        const match = stderr.match(pattern);
        if (match) return match;
        if (ended) throw new Error(`the CLI ended without printing ${pattern}:\n${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    result: async () => {
      const { code } = await status;
      clearTimeout(killer);
      return { code, stdout, stderr };
    },
  };
}

/** The login URL a `cloudsignal login` printed. */
export async function loginUrlOf(cli: RunningCli): Promise<string> {
  const match = await cli.waitForStderr(/open this URL in a browser:\n\n {2}(\S+)\n/);
  return match[1];
}

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

/** A headless Chromium with a fresh profile. */
export async function launchBrowser() {
  const profile = await Deno.makeTempDir({ prefix: "cloudsignal-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** The login page's control that denies the request (`error=access_denied`). */
const DENY_SELECTOR = "#deny, [name=decision][value=deny], button:has-text('Deny'), " +
  "button:has-text('Cancel'), a:has-text('Cancel')";

/** What the browser saw of a sign-in. */
export interface SignIn {
  /** The final page's text (the CLI's page after the redirect). */
  text: string;
  /** Every URL the browser requested (the callback URL carries the code). */
  urls: string[];
}

/** Opens `url`, signs in with the seeded user (or denies), and returns the final page. */
export async function signIn(
  browser: Awaited<ReturnType<typeof launchBrowser>>,
  url: string,
  options: { deny?: boolean; password?: string } = {},
): Promise<SignIn> {
  const page = await browser.context.newPage();
  const urls: string[] = [];
  page.on("request", (request) => void urls.push(request.url()));
  try {
    await page.goto(url);
    if (options.deny) {
      await page.locator(DENY_SELECTOR).first().waitFor({ timeout: 5_000 }).catch(() => {
        throw new Error(
          `the login page offers no way to deny the request (looked for ${DENY_SELECTOR})`,
        );
      });
    } else {
      await page.fill("input[type=email]", EMAIL);
      await page.fill("input[type=password]", options.password ?? PASSWORD);
    }
    await Promise.all([
      page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/),
      page.click(options.deny ? DENY_SELECTOR : "button[type=submit]:not([value=deny])"),
    ]);
    await page.waitForLoadState("domcontentloaded");
    return { text: await page.textContent("body") ?? "", urls };
  } finally {
    await page.close();
  }
}

/** A logged-in CLI home: runs `login --no-browser` and signs in with Chromium. */
export async function loginWithBrowser(
  browser: Awaited<ReturnType<typeof launchBrowser>>,
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<{ result: CliResult; signIn: SignIn }> {
  const cli = spawnCli(["login", "--no-browser", ...extraArgs], env);
  const url = await loginUrlOf(cli);
  const seen = await signIn(browser, url);
  return { result: await cli.result(), signIn: seen };
}

/**
 * Stores a session with real platform tokens (as a login would) in `home`, its access token
 * marked as expiring in `expiresInSeconds` (negative: already expired for the CLI).
 */
export async function seedSession(
  platform: RunningPlatform,
  home: string,
  expiresInSeconds = 3600,
): Promise<StoredSession> {
  const pair = await platform.store.createSession(platform.user.id, "cloudsignal-cli", {
    accessTtlSeconds: 3600,
    refreshTtlSeconds: 86_400,
  });
  const now = Date.now();
  const session: StoredSession = {
    api_url: platform.apiUrl,
    organization: platform.organization,
    user: { id: platform.user.id, email: platform.user.email, username: platform.user.username },
    client_id: "cloudsignal-cli",
    token_endpoint: `${platform.apiUrl}/oauth/token`,
    revocation_endpoint: `${platform.apiUrl}/oauth/revoke`,
    access_token: pair.access_token,
    access_token_expires_at: new Date(now + expiresInSeconds * 1000).toISOString(),
    refresh_token: pair.refresh_token,
    refresh_token_expires_at: new Date(now + 86_400_000).toISOString(),
    scope: null,
    created_at: new Date(now).toISOString(),
    issued_at: new Date(now).toISOString(),
  };
  await updateCredentials(credentialsLocation(home), (file) => ({
    write: withSession(file, session, true),
    result: 0,
  }));
  return session;
}

/** Marks the stored access token of every session as expired (the server still accepts it). */
export async function expireStoredAccessToken(home: string): Promise<void> {
  await updateCredentials(credentialsLocation(home), (file) => ({
    write: {
      ...file,
      sessions: file.sessions.map((session) => ({
        ...session,
        access_token_expires_at: new Date(Date.now() - 1000).toISOString(),
      })),
    },
    result: 0,
  }));
}

/**
 * A second organization named `name` with its own user on the same platform, and a stored
 * session for it in `home` (made current, as its login would).
 */
export async function seedOrganization(
  platform: RunningPlatform,
  home: string,
  name: string,
): Promise<StoredSession> {
  const organization = platform.store.createOrganization({ name });
  const email = `user-${organization.short_id}@example.com`;
  const user = await platform.store.createUser({
    org_id: organization.id,
    email,
    password: "another password here",
  });
  return await seedSession({
    ...platform,
    organization: { id: organization.id, short_id: organization.short_id, name },
    user: { ...platform.user, id: user.id, email, username: user.username },
  } as RunningPlatform, home);
}

/**
 * The local CloudSignal platform of `cloudsignal dev`: the API and OAuth server (Deno.serve)
 * and the MQTT broker (aedes), both on 127.0.0.1, over one SQLite store.
 *
 * For tests: `RunningPlatform.store` is the live `PlatformStore`; seed organizations, users,
 * claims and sessions through it (`createOrganization`, `createUser`, `setClaim`,
 * `createSession`) and the platform sees the change at once. See docs/platform.md.
 */

import { PlatformStore, type TokenLifetimes, type TokenOwner } from "./store.ts";
import { errorResponse, HttpError, Router } from "./http.ts";
import { addOAuthRoutes } from "./oauth.ts";
import { addApiRoutes } from "./api.ts";
import { startBroker } from "./broker.ts";
import { generatePassword } from "./crypto.ts";

export {
  type CodeRedemption,
  DATABASE_FILE,
  type Organization,
  PlatformStore,
  type RevisionRecord,
  SCHEMA_VERSION,
  type StoreChange,
  StoreError,
  type TokenLifetimes,
  type TokenOwner,
  type TokenPair,
  usernameFromEmail,
  type UserRecord,
} from "./store.ts";
export { CLIENTS, loopbackRedirect, MAX_LOGIN_FAILURES } from "./oauth.ts";
export { MAX_BODY_BYTES } from "./http.ts";
export { type BrokerHooks, parseMqttUsername, type RunningBroker, startBroker } from "./broker.ts";
export { DEFAULT_POLICY } from "./default_policy.ts";

/** Options of `startPlatform`. */
export interface PlatformOptions {
  /** The SQLite file lives here (created if missing). */
  dataDir: string;
  /** Default 8780; 0 = any free port. */
  apiPort?: number;
  /** Default 1883; 0 = any free port. */
  mqttPort?: number;
  /** Seeded user's email (default dev@cloudsignal.local). */
  email?: string;
  /** Seeded user's password (generated and printed if absent). */
  password?: string;
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Default 14 days. */
  refreshTokenTtlSeconds?: number;
  /** Default 60. */
  authCodeTtlSeconds?: number;
  /** Where platform logs go (default: stderr). */
  log?: (line: string) => void;
  /** Log every allowed PUBLISH too (default true; denials are always logged). */
  logAllowedPublishes?: boolean;
}

/** A started platform. */
export interface RunningPlatform {
  /** `http://127.0.0.1:<port>` */
  apiUrl: string;
  /** `mqtt://127.0.0.1:<port>` */
  mqttUrl: string;
  organization: { id: string; short_id: string; name: string };
  /** `password` is null when the user already existed and no password was given. */
  user: { id: string; username: string; email: string; password: string | null };
  /** Token endpoint requests by grant type since start. */
  stats(): { tokenRequests: { authorization_code: number; refresh_token: number } };
  /** The live store, for seeding in tests. */
  store: PlatformStore;
  /** Stops the servers and closes the store. */
  close(): Promise<void>;
}

/** The default seeded user's email. */
export const DEFAULT_EMAIL = "dev@cloudsignal.local";
/** The default API port. */
export const DEFAULT_API_PORT = 8780;
/** The default MQTT port. */
export const DEFAULT_MQTT_PORT = 1883;
/** The default refresh token lifetime: 14 days. */
export const DEFAULT_REFRESH_TTL_SECONDS = 14 * 24 * 3600;

function stderrLog(line: string): void {
  const bytes = new TextEncoder().encode(`${line}\n`);
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  } catch { /* stderr closed */ }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen <= 0) {
    throw new RangeError(`${name} must be a positive number of seconds (got ${value})`);
  }
  return chosen;
}

async function seed(store: PlatformStore, email: string, password: string | undefined) {
  const organization = store.organizations()[0] ??
    store.createOrganization({ name: "Development" });
  const existing = store.userByEmail(email);
  if (existing) {
    if (password !== undefined) await store.setPassword(existing.id, password);
    if (password !== undefined) await store.setMqttPassword(existing.id, password);
    const org = store.organization(existing.org_id)!;
    return { organization: org, user: { ...existing, password: password ?? null } };
  }
  const chosen = password ?? generatePassword();
  const user = await store.createUser({
    org_id: organization.id,
    email,
    password: chosen,
    mqtt_password: chosen,
    username: freeUsername(store, organization.id, email),
  });
  return { organization, user: { ...user, password: chosen } };
}

function freeUsername(store: PlatformStore, orgId: string, email: string): string {
  const base = email.split("@")[0].replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 60) || "user";
  let candidate = base;
  for (let n = 2; store.userByUsername(orgId, candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/** `line` with control characters written as `\u001b` and the like. */
export function escapeControls(line: string): string {
  return line.replace(
    // deno-lint-ignore no-control-regex -- the control characters are what is escaped
    /[\u0000-\u001f\u007f-\u009f]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Starts the API, the OAuth server and the MQTT broker on 127.0.0.1. */
export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const write = options.log ?? stderrLog;
  // Values from clients (ids, emails, usernames, topics) reach the log: control characters
  // could rewrite the developer's terminal or forge log lines, so they are escaped here.
  const log = (line: string) => write(escapeControls(line));
  const lifetimes: TokenLifetimes = {
    accessTtlSeconds: positive(options.accessTokenTtlSeconds, 3600, "accessTokenTtlSeconds"),
    refreshTtlSeconds: positive(
      options.refreshTokenTtlSeconds,
      DEFAULT_REFRESH_TTL_SECONDS,
      "refreshTokenTtlSeconds",
    ),
  };
  const authCodeTtlSeconds = positive(options.authCodeTtlSeconds, 60, "authCodeTtlSeconds");
  const store = await PlatformStore.open(options.dataDir);
  const cleanups: (() => Promise<void> | void)[] = [() => store.close()];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    store.purgeExpired();
    const seeded = await seed(store, options.email ?? DEFAULT_EMAIL, options.password);
    const stats = { authorization_code: 0, refresh_token: 0 };
    let apiUrl = "";
    const router = new Router();
    await addOAuthRoutes(router, {
      store,
      issuer: () => apiUrl,
      lifetimes,
      authCodeTtlSeconds,
      log,
      stats,
    });
    const authenticate = async (request: Request): Promise<TokenOwner> => {
      const header = request.headers.get("authorization") ?? "";
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (!match) {
        throw new HttpError(
          401,
          "unauthorized",
          "missing bearer token: send Authorization: Bearer <access token>",
          {},
          { "www-authenticate": 'Bearer realm="cloudsignal"' },
        );
      }
      const owner = await store.accessTokenOwner(match[1]);
      if (!owner) {
        throw new HttpError(
          401,
          "unauthorized",
          "the access token is invalid, expired or revoked",
          {},
          { "www-authenticate": 'Bearer realm="cloudsignal", error="invalid_token"' },
        );
      }
      return owner;
    };
    addApiRoutes(router, { store, log }, authenticate);

    const allowedHosts = new Set<string>();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: options.apiPort ?? DEFAULT_API_PORT,
      onListen: () => {},
    }, async (request) => {
      const started = performance.now();
      const url = new URL(request.url);
      let response: Response;
      try {
        // Only the loopback names of this server: a page on another site that rebinds its
        // DNS name to 127.0.0.1 sends its own name and is refused.
        if (!allowedHosts.has(request.headers.get("host") ?? "")) {
          throw new HttpError(421, "misdirected_request", "this server answers only to 127.0.0.1");
        }
        response = await router.handle(request, url);
      } catch (error) {
        if (error instanceof HttpError) response = errorResponse(error);
        else {
          log(
            `[api] ${request.method} ${url.pathname}: internal error: ${
              error instanceof Error ? error.message : String(error)
            }`,
          );
          response = errorResponse(
            new HttpError(500, "internal_error", "the platform failed; see its log"),
          );
        }
      }
      const ms = (performance.now() - started).toFixed(1);
      log(`[api] ${request.method} ${url.pathname} ${response.status} ${ms} ms`);
      return response;
    });
    cleanups.push(() => server.shutdown());
    apiUrl = `http://127.0.0.1:${server.addr.port}`;
    const port = server.addr.port;
    allowedHosts.add(`127.0.0.1:${port}`).add(`localhost:${port}`).add(`[::1]:${port}`);

    const broker = await startBroker({
      store,
      port: options.mqttPort ?? DEFAULT_MQTT_PORT,
      log,
      logAllowedPublishes: options.logAllowedPublishes,
    });
    cleanups.push(() => broker.close());

    const watcher = setInterval(() => {
      try {
        store.checkExternalChanges();
      } catch { /* closing */ }
    }, 250);
    cleanups.push(() => clearInterval(watcher));

    return {
      apiUrl,
      mqttUrl: `mqtt://127.0.0.1:${broker.port}`,
      organization: {
        id: seeded.organization.id,
        short_id: seeded.organization.short_id,
        name: seeded.organization.name,
      },
      user: {
        id: seeded.user.id,
        username: seeded.user.username,
        email: seeded.user.email,
        password: seeded.user.password,
      },
      stats: () => ({ tokenRequests: { ...stats } }),
      store,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

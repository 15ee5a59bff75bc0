/**
 * The credential store: `<home>/credentials.json` (home is `CLOUDSIGNAL_HOME` or
 * `~/.cloudsignal`). Directory 0700 and file 0600, re-applied on every write; every write
 * is an atomic replace made under the exclusive lock `credentials.json.lock`, from a fresh
 * read taken after the lock, so concurrent commands never lose each other's changes.
 *
 * A file readable or writable by others, owned by another user, damaged, or of an unknown
 * format version is refused with a message saying how to fix it, and never overwritten.
 *
 * Format (version 1): `{ version: 1, current_api_url?: <api_url>, current: { <api_url>:
 * <organization id> }, sessions: [StoredSession…] }`. Sessions are keyed by API URL and
 * organization id; each API URL has at most one current session, and `current_api_url`
 * names the API URL whose current session commands use without `--api-url` (the current
 * session). Files written before `current_api_url` existed are read as they were.
 */

import { OperationError } from "../core/errors.ts";
import { DEFAULT_API_URL } from "../core/context.ts";
import { writeFileAtomic } from "../core/atomic_write.ts";
import { type FileLockOptions, withFileLock } from "./lock.ts";

/** The format version this CLI reads and writes. */
export const CREDENTIALS_VERSION = 1;

/** The organization a session belongs to, from `GET /v2/me`. */
export interface SessionOrganization {
  id: string;
  short_id: string;
  name: string;
}

/** One login: tokens and what they were issued for. */
export interface StoredSession {
  /** API base URL, without a trailing slash. */
  api_url: string;
  organization: SessionOrganization;
  /** The user; `username` is null for sessions stored before it was kept. */
  user: { id: string; email: string; username: string | null };
  /** The OAuth client the tokens were issued to (refresh must use the same). */
  client_id: string;
  /** From the server's metadata at login. */
  token_endpoint: string;
  revocation_endpoint: string | null;
  access_token: string;
  /** When the access token expires (ISO 8601), or null when the server did not say. */
  access_token_expires_at: string | null;
  refresh_token: string | null;
  /** When the refresh token expires, if the server said (`refresh_token_expires_in`). */
  refresh_token_expires_at: string | null;
  /** The scope the server granted (or, when it did not say, the one requested). */
  scope: string | null;
  /** When the login happened. */
  created_at: string;
  /** When the current access token was obtained (login or the last refresh). */
  issued_at: string;
}

/** The whole file. */
export interface CredentialsFile {
  version: typeof CREDENTIALS_VERSION;
  /** The API URL of the current session; absent in files of earlier versions of the CLI. */
  current_api_url?: string;
  /** The current organization id per API URL. */
  current: Record<string, string>;
  sessions: StoredSession[];
}

/** Where the store lives. */
export interface CredentialsLocation {
  /** The CLI's state directory. */
  home: string;
  /** `<home>/credentials.json`. */
  file: string;
  /** `<home>/credentials.json.lock`. */
  lock: string;
}

/** The store's paths for a state directory. */
export function credentialsLocation(home: string): CredentialsLocation {
  const directory = home.replace(/\/+$/, "") || "/";
  const file = `${directory === "/" ? "" : directory}/credentials.json`;
  return { home: directory, file, lock: `${file}.lock` };
}

/** An empty store. */
export function emptyCredentials(): CredentialsFile {
  return { version: CREDENTIALS_VERSION, current: {}, sessions: [] };
}

const POSIX = Deno.build.os !== "windows";

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

function damaged(path: string, detail: string): OperationError {
  return new OperationError(
    `credentials file ${path} is damaged: ${detail}`,
    `It was left unchanged. Move it aside (mv ${shellQuote(path)} ${
      shellQuote(`${path}.damaged`)
    }) and run \`cloudsignal login\` again.`,
  );
}

/** Refuses a file others can read or write, or that belongs to someone else. */
function checkFileSafety(path: string, info: Deno.FileInfo): void {
  if (!info.isFile) {
    throw new OperationError(
      `credentials file ${path} is not a regular file`,
      "Remove it and run `cloudsignal login` again.",
    );
  }
  if (!POSIX || info.mode === null) return;
  const uid = Deno.uid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new OperationError(
      `credentials file ${path} belongs to another user (uid ${info.uid})`,
      `Use your own file: remove it (or set CLOUDSIGNAL_HOME) and run \`cloudsignal login\`.`,
    );
  }
  if ((info.mode & 0o077) !== 0) {
    throw new OperationError(
      `credentials file ${path} is accessible by other users (mode ${
        octal(info.mode)
      }); refusing to use it`,
      `Fix it with: chmod 600 ${shellQuote(path)}\n` +
        "If others could have copied it, run `cloudsignal logout` and `cloudsignal login`.",
    );
  }
}

function jsonSyntaxDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const where = /\(line (\d+) column (\d+)\)/.exec(message);
  // The engine's message may quote the file's text (a token); keep only its first words.
  const kind = message.split(/ in JSON| is not valid JSON|, "/)[0].replaceAll('"', "");
  const place = where ? ` at line ${where[1]}, column ${where[2]}` : "";
  return `not valid JSON${place}${kind && kind.length < 80 ? ` (${kind})` : ""}`;
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

class Shape {
  constructor(readonly path: string) {}

  fail(where: string, expected: string, value: Json): never {
    throw damaged(this.path, `${where}: expected ${expected}, found ${describe(value)}`);
  }

  object(value: Json, where: string): Record<string, Json> {
    if (!isObject(value)) this.fail(where, "an object", value);
    return value;
  }

  string(value: Json, where: string): string {
    if (typeof value !== "string" || value === "") this.fail(where, "a non-empty string", value);
    return value;
  }

  optionalString(value: Json, where: string): string | null {
    if (value === null || value === undefined) return null;
    return this.string(value, where);
  }

  /** A token: printable ASCII without spaces, as HTTP headers and forms carry it. */
  token(value: Json, where: string): string {
    const text = this.string(value, where);
    if (!/^[\x21-\x7e]+$/.test(text)) {
      this.fail(where, "a token of printable ASCII characters", value);
    }
    return text;
  }

  optionalToken(value: Json, where: string): string | null {
    if (value === null || value === undefined) return null;
    return this.token(value, where);
  }

  date(value: Json, where: string): string {
    const text = this.string(value, where);
    if (Number.isNaN(Date.parse(text))) this.fail(where, "an ISO 8601 date", value);
    return text;
  }

  optionalDate(value: Json, where: string): string | null {
    if (value === null || value === undefined) return null;
    return this.date(value, where);
  }
}

function parseSession(shape: Shape, value: Json, where: string): StoredSession {
  const session = shape.object(value, where);
  const organization = shape.object(session.organization, `${where}.organization`);
  const user = shape.object(session.user, `${where}.user`);
  return {
    api_url: shape.string(session.api_url, `${where}.api_url`),
    organization: {
      id: shape.string(organization.id, `${where}.organization.id`),
      short_id: shape.string(organization.short_id, `${where}.organization.short_id`),
      name: shape.string(organization.name, `${where}.organization.name`),
    },
    user: {
      id: shape.string(user.id, `${where}.user.id`),
      email: shape.string(user.email, `${where}.user.email`),
      username: shape.optionalString(user.username, `${where}.user.username`),
    },
    client_id: shape.string(session.client_id, `${where}.client_id`),
    token_endpoint: shape.string(session.token_endpoint, `${where}.token_endpoint`),
    revocation_endpoint: shape.optionalString(
      session.revocation_endpoint,
      `${where}.revocation_endpoint`,
    ),
    access_token: shape.token(session.access_token, `${where}.access_token`),
    access_token_expires_at: shape.optionalDate(
      session.access_token_expires_at,
      `${where}.access_token_expires_at`,
    ),
    refresh_token: shape.optionalToken(session.refresh_token, `${where}.refresh_token`),
    refresh_token_expires_at: shape.optionalDate(
      session.refresh_token_expires_at,
      `${where}.refresh_token_expires_at`,
    ),
    scope: shape.optionalString(session.scope, `${where}.scope`),
    created_at: shape.date(session.created_at, `${where}.created_at`),
    issued_at: shape.date(session.issued_at, `${where}.issued_at`),
  };
}

/** Parses and checks the file's text; `OperationError` naming the place when it is damaged. */
export function parseCredentials(text: string, path: string): CredentialsFile {
  let data: Json;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw damaged(path, jsonSyntaxDetail(error));
  }
  const shape = new Shape(path);
  const root = shape.object(data, "the top level");
  const version = root.version;
  if (version !== CREDENTIALS_VERSION) {
    if (typeof version === "number" && Number.isInteger(version) && version > 0) {
      throw new OperationError(
        `credentials file ${path} has format version ${version}; this cloudsignal reads version ${CREDENTIALS_VERSION}`,
        "It was left unchanged. It was probably written by a newer cloudsignal: upgrade, " +
          "or use another CLOUDSIGNAL_HOME.",
      );
    }
    shape.fail("version", `the number ${CREDENTIALS_VERSION}`, version);
  }
  const list = root.sessions;
  if (!Array.isArray(list)) shape.fail("sessions", "an array", list);
  const sessions = (list as Json[]).map((value, index) =>
    parseSession(shape, value, `sessions[${index}]`)
  );
  const currentObject = shape.object(root.current, "current");
  const current: Record<string, string> = {};
  for (const [apiUrl, organizationId] of Object.entries(currentObject)) {
    current[apiUrl] = shape.string(organizationId, `current[${JSON.stringify(apiUrl)}]`);
  }
  const currentApiUrl = root.current_api_url === undefined
    ? undefined
    : shape.string(root.current_api_url, "current_api_url");
  const seen = new Set<string>();
  sessions.forEach((session, index) => {
    const key = `${session.api_url}\n${session.organization.id}`;
    if (seen.has(key)) {
      throw damaged(
        path,
        `sessions[${index}]: a second session for ${session.api_url} and organization ${session.organization.id}`,
      );
    }
    seen.add(key);
  });
  return {
    version: CREDENTIALS_VERSION,
    ...(currentApiUrl === undefined ? {} : { current_api_url: currentApiUrl }),
    current,
    sessions,
  };
}

/**
 * Reads the store; null when the file does not exist. Refuses (with `OperationError`) a file
 * with wider permissions than 0600, another owner, damaged content or an unknown version.
 */
export async function readCredentials(
  location: CredentialsLocation,
): Promise<CredentialsFile | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(location.file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw cannotAccess(location.file, error);
  }
  checkFileSafety(location.file, info);
  let text: string;
  try {
    text = await Deno.readTextFile(location.file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw cannotAccess(location.file, error);
  }
  return parseCredentials(text, location.file);
}

/**
 * `readCredentials` without waiting: for choosing the API URL while a command starts. The
 * same refusals (as `OperationError`) for an unsafe or damaged file.
 */
export function readCredentialsSync(location: CredentialsLocation): CredentialsFile | null {
  let text: string;
  try {
    checkFileSafety(location.file, Deno.statSync(location.file));
    text = Deno.readTextFileSync(location.file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    if (error instanceof OperationError) throw error;
    throw cannotAccess(location.file, error);
  }
  return parseCredentials(text, location.file);
}

function cannotAccess(path: string, error: unknown): OperationError {
  const reason = error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : error instanceof Error
    ? error.message
    : String(error);
  return new OperationError(`cannot read ${path}: ${reason}`);
}

async function ensureDirectory(home: string): Promise<void> {
  try {
    await Deno.mkdir(home, { recursive: true, mode: 0o700 });
    if (POSIX) await Deno.chmod(home, 0o700);
  } catch (error) {
    throw new OperationError(
      `cannot create or secure the directory ${home}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      "Make sure it is yours, or point CLOUDSIGNAL_HOME at a directory you own.",
    );
  }
}

/** Removes temporary files left by a writer that was killed (only under the lock). */
async function removeLeftovers(location: CredentialsLocation): Promise<void> {
  try {
    for await (const entry of Deno.readDir(location.home)) {
      if (/^\.credentials\.json\.[0-9a-f]+\.tmp$/.test(entry.name)) {
        await Deno.remove(`${location.home}/${entry.name}`).catch(() => {});
      }
    }
  } catch { /* best effort */ }
}

/** Serializes the store as written to disk. */
export function serializeCredentials(file: CredentialsFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Writes the store atomically with mode 0600 (directory 0700); removes it when empty. */
async function writeCredentials(
  location: CredentialsLocation,
  file: CredentialsFile,
): Promise<void> {
  if (file.sessions.length === 0) {
    await Deno.remove(location.file).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    return;
  }
  await writeFileAtomic(location.file, serializeCredentials(file), { mode: 0o600 });
}

/** Options of `updateCredentials`. */
export interface UpdateOptions extends FileLockOptions {}

/**
 * Read-modify-write under the lock: takes the lock, re-reads the file, calls `change` with
 * the fresh content (an empty store when there is none), and writes what it returns
 * atomically (deleting the file when no session remains). Returning `undefined` from
 * `change` leaves the file as it is. Resolves with `change`'s second value.
 */
export async function updateCredentials<T>(
  location: CredentialsLocation,
  change: (
    file: CredentialsFile,
  ) => Promise<{ write?: CredentialsFile; result: T }> | { write?: CredentialsFile; result: T },
  options: UpdateOptions = {},
): Promise<T> {
  await ensureDirectory(location.home);
  return await withFileLock(location.lock, async () => {
    const existed = await readCredentials(location);
    await removeLeftovers(location);
    const { write, result } = await change(existed ?? emptyCredentials());
    if (write && (existed !== null || write.sessions.length > 0)) {
      await writeCredentials(location, write);
    }
    return result;
  }, options);
}

/**
 * The API URL of the current session: `current_api_url`, or for a file written before it
 * existed, the default API when it has a current session, else the API URL of the most
 * recent login among the current ones. Null when no session is current anywhere.
 */
export function currentApiUrlOf(file: CredentialsFile): string | null {
  if (file.current_api_url !== undefined) return file.current_api_url;
  const current = Object.keys(file.current)
    .map((apiUrl) => currentSession(file, apiUrl))
    .filter((session): session is StoredSession => session !== null);
  if (current.some((session) => session.api_url === DEFAULT_API_URL)) return DEFAULT_API_URL;
  const newest = current.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))[0];
  return newest?.api_url ?? null;
}

/** The current session for an API URL, or null. */
export function currentSession(file: CredentialsFile, apiUrl: string): StoredSession | null {
  const organizationId = file.current[apiUrl];
  if (organizationId === undefined) return null;
  return findSession(file, apiUrl, organizationId);
}

/** The session for an API URL and organization, or null. */
export function findSession(
  file: CredentialsFile,
  apiUrl: string,
  organizationId: string,
): StoredSession | null {
  return file.sessions.find((session) =>
    session.api_url === apiUrl && session.organization.id === organizationId
  ) ?? null;
}

/** Whether two sessions are the same one (same API URL and organization). */
export function sameSession(
  a: Pick<StoredSession, "api_url" | "organization">,
  b: Pick<StoredSession, "api_url" | "organization">,
): boolean {
  return a.api_url === b.api_url && a.organization.id === b.organization.id;
}

/**
 * A copy of `file` with `session` added or replacing the one with the same key. With
 * `makeCurrent` it becomes the current session (for its API URL and overall); otherwise it
 * becomes current for its API URL only when that API URL had none.
 */
export function withSession(
  file: CredentialsFile,
  session: StoredSession,
  makeCurrent: boolean,
): CredentialsFile {
  const sessions = file.sessions.filter((existing) => !sameSession(existing, session));
  sessions.push(session);
  const current = { ...file.current };
  if (makeCurrent || current[session.api_url] === undefined) {
    current[session.api_url] = session.organization.id;
  }
  const currentApiUrl = makeCurrent ? session.api_url : file.current_api_url;
  return {
    version: CREDENTIALS_VERSION,
    ...(currentApiUrl === undefined ? {} : { current_api_url: currentApiUrl }),
    current,
    sessions,
  };
}

/** A copy of `file` whose current session is the stored one of `apiUrl` and `organizationId`. */
export function withCurrent(
  file: CredentialsFile,
  apiUrl: string,
  organizationId: string,
): CredentialsFile {
  return {
    ...file,
    current_api_url: apiUrl,
    current: { ...file.current, [apiUrl]: organizationId },
  };
}

/**
 * A copy of `file` without the session of `apiUrl` + `organizationId`. When it was the
 * current one of its API URL, that API URL has no current session afterwards (the caller
 * chooses another one only after the server confirmed it still works); `current_api_url`
 * stays, so commands keep addressing the same API and say that no one is logged in there.
 */
export function withoutSession(
  file: CredentialsFile,
  apiUrl: string,
  organizationId: string,
): CredentialsFile {
  const sessions = file.sessions.filter((session) =>
    !(session.api_url === apiUrl && session.organization.id === organizationId)
  );
  const current: Record<string, string> = {};
  for (const [key, id] of Object.entries(file.current)) {
    if (sessions.some((s) => s.api_url === key && s.organization.id === id)) current[key] = id;
  }
  return { ...file, current, sessions };
}

/**
 * The platform's storage: one SQLite file (`node:sqlite`) with a schema version and
 * migrations. Organizations, users, claims, every policy revision, OAuth codes, sessions
 * and tokens (only their SHA-256 digests). Every multi-row change is one transaction, the
 * journal is WAL, so a process killed mid-write leaves the last committed state.
 *
 * The store also caches what the broker reads per packet (compiled policies, claims);
 * writes through this object update the caches at once, and `checkExternalChanges` drops
 * them when another connection changed the file.
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { type Policy, validatePolicyDocument } from "../acl/mod.ts";
import {
  digest,
  hashPassword,
  randomString,
  randomToken,
  verifyPassword as checkPassword,
} from "./crypto.ts";
import { type PolicyState, policyState } from "./policy_info.ts";
import { DEFAULT_POLICY } from "./default_policy.ts";

/** The schema version this code writes; older files are migrated on open. */
export const SCHEMA_VERSION = 2;

/** The database file's name inside the data directory. */
export const DATABASE_FILE = "platform.sqlite3";

const MIGRATIONS: string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    short_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    username TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    mqtt_password_hash TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, username)
  ) WITHOUT ROWID;
  CREATE TABLE claims (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE policy_revisions (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    revision INTEGER NOT NULL CHECK (revision >= 1),
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES users(id),
    PRIMARY KEY (org_id, revision)
  ) WITHOUT ROWID;
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT
  ) WITHOUT ROWID;
  CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX tokens_by_session ON tokens (session_id);
  CREATE TABLE auth_codes (
    hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL
  ) WITHOUT ROWID;
  `,
  // 2: the scope granted at the authorization request, kept by its code and its session.
  `
  ALTER TABLE auth_codes ADD COLUMN scope TEXT;
  ALTER TABLE sessions ADD COLUMN scope TEXT;
  `,
];

/** An organization. */
export interface Organization {
  id: string;
  short_id: string;
  name: string;
}

/** A user, without secrets. */
export interface UserRecord {
  id: string;
  org_id: string;
  username: string;
  email: string;
}

/** One stored revision of a policy. */
export interface RevisionRecord {
  revision: number;
  created_at: string;
  created_by: { user_id: string; email: string } | null;
}

/** A stored revision with its document as written. */
export interface RevisionDocument extends RevisionRecord {
  /** The JSON text as it was sent. */
  text: string;
}

/** Access and refresh tokens of one session. */
export interface TokenPair {
  session_id: string;
  access_token: string;
  refresh_token: string;
  /** Seconds. */
  expires_in: number;
  /** Seconds. */
  refresh_expires_in: number;
}

/** The tokens a login or refresh issues; no refresh token without offline access. */
export interface SessionTokens {
  session_id: string;
  access_token: string;
  refresh_token: string | null;
  /** Seconds. */
  expires_in: number;
  /** Seconds, when there is a refresh token. */
  refresh_expires_in: number | null;
  /** The scope granted (null when none was asked for). */
  scope: string | null;
}

/** Token lifetimes in seconds. */
export interface TokenLifetimes {
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

/** Who an access token belongs to. */
export interface TokenOwner {
  session_id: string;
  user: UserRecord;
  organization: Organization;
  expires_at: number;
}

/** A redeemed authorization code, or why it cannot be redeemed. */
export type CodeRedemption =
  | {
    ok: true;
    user_id: string;
    client_id: string;
    redirect_uri: string;
    code_challenge: string;
    /** The scope granted at the authorization request. */
    scope: string | null;
    /** Marks which session the code created (for revoking on reuse). */
    attach(sessionId: string): void;
  }
  | { ok: false; reason: "unknown" | "used" | "expired" };

/** The outcome of a refresh grant. */
export type RefreshOutcome =
  | { ok: true; tokens: TokenPair & { scope: string | null }; user_id: string }
  | {
    ok: false;
    reason: "unknown" | "reused" | "expired" | "revoked" | "client_mismatch" | "scope_not_granted";
  };

/** What changed, for listeners (the broker re-decides subscriptions, disconnects revoked sessions). */
export type StoreChange =
  | { kind: "claims"; user_id: string }
  | { kind: "policy"; org_id: string; revision: number }
  | { kind: "session_revoked"; session_id: string }
  /** Another connection (another process) committed to the file: anything may have changed. */
  | { kind: "external" };

/** Raised for a write the store refuses (duplicate email, bad username, invalid policy). */
export class StoreError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** MQTT usernames: no `@` (it separates the organization), no topic wildcards or slashes. */
export const USERNAME = /^[A-Za-z0-9_.-]{1,64}$/;

const SHORT_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function nowIso(): string {
  return new Date().toISOString();
}

type Row = Record<string, SQLInputValue>;

interface NewTokens {
  accessHash: string;
  refreshHash: string;
  pair: TokenPair;
  accessExpires: number;
  refreshExpires: number;
}

/** The platform's SQLite store. Open with `PlatformStore.open(dataDir)`. */
export class PlatformStore {
  readonly #db: DatabaseSync;
  readonly #policies = new Map<string, PolicyState>();
  readonly #claims = new Map<string, Readonly<Record<string, string>>>();
  readonly #listeners = new Set<(change: StoreChange) => void>();
  #dataVersion = 0;

  private constructor(readonly path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA busy_timeout = 5000");
    this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA foreign_keys = ON");
    this.#migrate();
    this.#dataVersion = this.#pragmaDataVersion();
  }

  /**
   * Opens (creating if missing) the store in `dataDir`, migrating an older schema. The
   * directory is made private (0700) and the database files 0600: they hold password hashes.
   */
  static async open(dataDir: string): Promise<PlatformStore> {
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((error) => {
      if (
        !(error instanceof Deno.errors.AlreadyExists || error instanceof Deno.errors.NotADirectory)
      ) {
        throw error;
      }
      throw new StoreError(
        "data_dir_not_directory",
        `${dataDir} is not a directory (${error.message})`,
      );
    });
    const directory = dataDir.replace(/\/+$/, "");
    const path = `${directory}/${DATABASE_FILE}`;
    if (Deno.build.os !== "windows") {
      await Deno.chmod(directory, 0o700);
      // SQLite creates its files with the umask's mode; create them private first.
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        const handle = await Deno.open(file, { create: true, append: true, mode: 0o600 })
          .catch(() => null);
        handle?.close();
        await Deno.chmod(file, 0o600).catch(() => {});
      }
    }
    return new PlatformStore(path);
  }

  /** The schema version of the open file. */
  get schemaVersion(): number {
    return Number((this.#db.prepare("PRAGMA user_version").get() as Row).user_version);
  }

  #migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      this.#db.close();
      throw new StoreError(
        "schema_too_new",
        `${this.path} has schema version ${current}, newer than this cloudsignal knows ` +
          `(${MIGRATIONS.length}); upgrade cloudsignal or use another --data-dir`,
      );
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.#transaction(() => {
        this.#db.exec(MIGRATIONS[version]);
        this.#db.exec(`PRAGMA user_version = ${version + 1}`);
      });
    }
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#db.prepare(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#db.prepare(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#db.prepare(sql).run(...params).changes);
  }

  /** Closes the file. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** Listens to changes made through this store; returns the function that stops it. */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: StoreChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  #pragmaDataVersion(): number {
    return Number((this.#db.prepare("PRAGMA data_version").get() as Row).data_version);
  }

  /** Drops the caches when another connection committed to the file; true if it did. */
  checkExternalChanges(): boolean {
    const version = this.#pragmaDataVersion();
    if (version === this.#dataVersion) return false;
    this.#dataVersion = version;
    this.#policies.clear();
    this.#claims.clear();
    this.#emit({ kind: "external" });
    return true;
  }

  /** A setting (e.g. the CSRF secret), created with `create` when missing. */
  setting(key: string, create: () => string): string {
    const row = this.#get("SELECT value FROM settings WHERE key = ?", key);
    if (row) return String(row.value);
    const value = create();
    this.#run("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", key, value);
    return String(this.#get("SELECT value FROM settings WHERE key = ?", key)!.value);
  }

  // --- organizations ---

  /** Creates an organization with its initial policy (revision 1). */
  createOrganization(input: { name: string; short_id?: string; policy?: Policy }): Organization {
    const organization: Organization = {
      id: crypto.randomUUID(),
      short_id: input.short_id ?? randomString(8, SHORT_ID_ALPHABET),
      name: input.name,
    };
    if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(organization.short_id)) {
      throw new StoreError(
        "invalid_short_id",
        `invalid organization short id "${organization.short_id}" (lowercase letters, digits, -)`,
      );
    }
    const policy = input.policy ?? DEFAULT_POLICY;
    this.#checkPolicy(policy);
    this.#transaction(() => {
      if (this.#get("SELECT 1 FROM organizations WHERE short_id = ?", organization.short_id)) {
        throw new StoreError(
          "duplicate_short_id",
          `an organization with short id "${organization.short_id}" exists`,
        );
      }
      this.#run(
        "INSERT INTO organizations (id, short_id, name, created_at) VALUES (?, ?, ?, ?)",
        organization.id,
        organization.short_id,
        organization.name,
        nowIso(),
      );
      this.#run(
        "INSERT INTO policy_revisions (org_id, revision, document, created_at, created_by) " +
          "VALUES (?, 1, ?, ?, NULL)",
        organization.id,
        `${JSON.stringify(policy, null, 2)}\n`,
        nowIso(),
      );
    });
    return organization;
  }

  /** An organization by id. */
  organization(id: string): Organization | null {
    const row = this.#get("SELECT id, short_id, name FROM organizations WHERE id = ?", id);
    return row ? organizationOf(row) : null;
  }

  /** An organization by short id (the MQTT username suffix). */
  organizationByShortId(shortId: string): Organization | null {
    const row = this.#get(
      "SELECT id, short_id, name FROM organizations WHERE short_id = ?",
      shortId,
    );
    return row ? organizationOf(row) : null;
  }

  /** Every organization, oldest first. */
  organizations(): Organization[] {
    return this.#all("SELECT id, short_id, name FROM organizations ORDER BY created_at, id")
      .map(organizationOf);
  }

  // --- users ---

  /** Creates a user; the username defaults to the email's local part. */
  async createUser(input: {
    org_id: string;
    email: string;
    password: string;
    username?: string;
    /** A password for MQTT CONNECT besides access tokens (none by default). */
    mqtt_password?: string;
  }): Promise<UserRecord> {
    const username = input.username ?? usernameFromEmail(input.email);
    if (!USERNAME.test(username)) {
      throw new StoreError(
        "invalid_username",
        `invalid username "${username}" (1 to 64 letters, digits, _ . -)`,
      );
    }
    if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) {
      throw new StoreError("invalid_email", `invalid email "${input.email}"`);
    }
    const passwordHash = await hashPassword(input.password);
    const mqttHash = input.mqtt_password === undefined
      ? null
      : await hashPassword(input.mqtt_password);
    const user: UserRecord = {
      id: crypto.randomUUID(),
      org_id: input.org_id,
      username,
      email: input.email,
    };
    this.#transaction(() => {
      if (!this.organization(input.org_id)) {
        throw new StoreError("unknown_organization", `no organization ${input.org_id}`);
      }
      if (this.#get("SELECT 1 FROM users WHERE email = ?", input.email)) {
        throw new StoreError("duplicate_email", `a user with email ${input.email} exists`);
      }
      if (
        this.#get("SELECT 1 FROM users WHERE org_id = ? AND username = ?", user.org_id, username)
      ) {
        throw new StoreError("duplicate_username", `username "${username}" is taken`);
      }
      this.#run(
        "INSERT INTO users (id, org_id, username, email, password_hash, mqtt_password_hash, " +
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        user.id,
        user.org_id,
        user.username,
        user.email,
        passwordHash,
        mqttHash,
        nowIso(),
      );
    });
    return user;
  }

  /** A user by id. */
  user(id: string): UserRecord | null {
    const row = this.#get("SELECT id, org_id, username, email FROM users WHERE id = ?", id);
    return row ? userOf(row) : null;
  }

  /** A user by email (case-insensitive). */
  userByEmail(email: string): UserRecord | null {
    const row = this.#get("SELECT id, org_id, username, email FROM users WHERE email = ?", email);
    return row ? userOf(row) : null;
  }

  /** A user of an organization by id or username. */
  userInOrganization(orgId: string, idOrUsername: string): UserRecord | null {
    const row = this.#get(
      "SELECT id, org_id, username, email FROM users WHERE org_id = ? AND (id = ? OR username = ?) " +
        "ORDER BY id = ? DESC LIMIT 1",
      orgId,
      idOrUsername,
      idOrUsername,
      idOrUsername,
    );
    return row ? userOf(row) : null;
  }

  /** A user of an organization by username. */
  userByUsername(orgId: string, username: string): UserRecord | null {
    const row = this.#get(
      "SELECT id, org_id, username, email FROM users WHERE org_id = ? AND username = ?",
      orgId,
      username,
    );
    return row ? userOf(row) : null;
  }

  /** The users of an organization, by username. */
  users(orgId: string): UserRecord[] {
    return this.#all(
      "SELECT id, org_id, username, email FROM users WHERE org_id = ? ORDER BY username",
      orgId,
    ).map(userOf);
  }

  /** Replaces a user's login password. */
  async setPassword(userId: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    this.#run("UPDATE users SET password_hash = ? WHERE id = ?", hash, userId);
  }

  /** Sets (or with null removes) a user's MQTT password. */
  async setMqttPassword(userId: string, password: string | null): Promise<void> {
    const hash = password === null ? null : await hashPassword(password);
    this.#run("UPDATE users SET mqtt_password_hash = ? WHERE id = ?", hash, userId);
  }

  /** Checks a user's login password. */
  async verifyPassword(userId: string, password: string): Promise<boolean> {
    const row = this.#get("SELECT password_hash FROM users WHERE id = ?", userId);
    return row ? await checkPassword(password, String(row.password_hash)) : false;
  }

  /** Checks a user's MQTT password (false when none is set, after as long a check). */
  async verifyMqttPassword(userId: string, password: string): Promise<boolean> {
    const row = this.#get("SELECT mqtt_password_hash FROM users WHERE id = ?", userId);
    if (!row || row.mqtt_password_hash === null) {
      this.#dummyHash ??= await hashPassword(randomToken(16));
      await checkPassword(password, this.#dummyHash);
      return false;
    }
    return await checkPassword(password, String(row.mqtt_password_hash));
  }

  #dummyHash: string | undefined;

  // --- claims ---

  /** A user's claims (cached; the same object until they change). */
  claims(userId: string): Readonly<Record<string, string>> {
    let claims = this.#claims.get(userId);
    if (!claims) {
      const loaded: Record<string, string> = {};
      for (
        const row of this.#all(
          "SELECT key, value FROM claims WHERE user_id = ? ORDER BY key",
          userId,
        )
      ) {
        loaded[String(row.key)] = String(row.value);
      }
      claims = Object.freeze(loaded);
      this.#claims.set(userId, claims);
    }
    return claims;
  }

  /** Sets one claim. The caller checks the value against the policy. */
  setClaim(userId: string, key: string, value: string): void {
    this.#run(
      "INSERT INTO claims (user_id, key, value, updated_at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      userId,
      key,
      value,
      nowIso(),
    );
    this.#claims.delete(userId);
    this.#emit({ kind: "claims", user_id: userId });
  }

  /** Removes one claim; false when the user did not have it. */
  deleteClaim(userId: string, key: string): boolean {
    const removed = this.#run("DELETE FROM claims WHERE user_id = ? AND key = ?", userId, key) > 0;
    this.#claims.delete(userId);
    if (removed) this.#emit({ kind: "claims", user_id: userId });
    return removed;
  }

  /** Every claim name some user of the organization has. */
  claimNames(orgId: string): Set<string> {
    return new Set(
      this.#all(
        "SELECT DISTINCT c.key FROM claims c JOIN users u ON u.id = c.user_id WHERE u.org_id = ?",
        orgId,
      ).map((row) => String(row.key)),
    );
  }

  // --- policies ---

  #checkPolicy(policy: unknown): asserts policy is Policy {
    const result = validatePolicyDocument(policy);
    if (!result.valid) {
      const first = result.findings.find((finding) => finding.severity === "error")!;
      throw new StoreError("invalid_policy", `${first.path} - ${first.message}`);
    }
  }

  /** The current policy of an organization, compiled once per revision (cached). */
  policy(orgId: string): PolicyState {
    const cached = this.#policies.get(orgId);
    if (cached) return cached;
    const row = this.#get(
      "SELECT revision, document FROM policy_revisions WHERE org_id = ? " +
        "ORDER BY revision DESC LIMIT 1",
      orgId,
    );
    if (!row) throw new StoreError("unknown_organization", `no organization ${orgId}`);
    const state = policyState(Number(row.revision), JSON.parse(String(row.document)) as Policy);
    this.#policies.set(orgId, state);
    return state;
  }

  /** One revision with its text, or null. */
  revision(orgId: string, revision: number): RevisionDocument | null {
    const row = this.#get(
      "SELECT p.revision, p.document, p.created_at, p.created_by, u.email FROM policy_revisions p " +
        "LEFT JOIN users u ON u.id = p.created_by WHERE p.org_id = ? AND p.revision = ?",
      orgId,
      revision,
    );
    return row ? { ...revisionRecord(row), text: String(row.document) } : null;
  }

  /** Revisions newest first: at most `limit`, older than `before` when given. */
  revisions(orgId: string, limit: number, before?: number): RevisionRecord[] {
    return this.#all(
      "SELECT p.revision, p.created_at, p.created_by, u.email FROM policy_revisions p " +
        "LEFT JOIN users u ON u.id = p.created_by WHERE p.org_id = ? AND p.revision < ? " +
        "ORDER BY p.revision DESC LIMIT ?",
      orgId,
      before ?? Number.MAX_SAFE_INTEGER,
      limit,
    ).map(revisionRecord);
  }

  /**
   * Stores `text` (a validated policy) as the next revision when the current one is
   * `expected` (or any, with null). Returns the new revision, or the current one on a
   * mismatch.
   */
  putPolicy(
    orgId: string,
    text: string,
    expected: number | null,
    userId: string | null,
  ): { ok: true; revision: number; created_at: string } | { ok: false; current: number } {
    const policy = JSON.parse(text);
    this.#checkPolicy(policy);
    const outcome = this.#transaction(() => {
      const row = this.#get(
        "SELECT MAX(revision) AS revision FROM policy_revisions WHERE org_id = ?",
        orgId,
      );
      const current = Number(row?.revision ?? 0);
      if (current === 0) throw new StoreError("unknown_organization", `no organization ${orgId}`);
      if (expected !== null && expected !== current) return { ok: false as const, current };
      const createdAt = nowIso();
      this.#run(
        "INSERT INTO policy_revisions (org_id, revision, document, created_at, created_by) " +
          "VALUES (?, ?, ?, ?, ?)",
        orgId,
        current + 1,
        text,
        createdAt,
        userId,
      );
      return { ok: true as const, revision: current + 1, created_at: createdAt };
    });
    if (outcome.ok) {
      this.#policies.set(orgId, policyState(outcome.revision, policy));
      this.#emit({ kind: "policy", org_id: orgId, revision: outcome.revision });
    }
    return outcome;
  }

  // --- OAuth codes, sessions, tokens ---

  /** Stores an authorization code (its digest) and returns the code. */
  async createAuthCode(input: {
    user_id: string;
    client_id: string;
    redirect_uri: string;
    code_challenge: string;
    ttlSeconds: number;
    /** The scope granted (null: none asked for). */
    scope?: string | null;
  }): Promise<string> {
    const code = randomToken(32);
    this.#run(
      "INSERT INTO auth_codes (hash, user_id, client_id, redirect_uri, code_challenge, " +
        "expires_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
      await digest(code),
      input.user_id,
      input.client_id,
      input.redirect_uri,
      input.code_challenge,
      Date.now() + input.ttlSeconds * 1000,
      input.scope ?? null,
    );
    return code;
  }

  /**
   * Redeems a code once. A second use revokes the session the first use created
   * (RFC 6749 section 4.1.2); every later check (client, redirect, PKCE) happens on a code
   * that can no longer be used again.
   */
  async redeemAuthCode(code: string): Promise<CodeRedemption> {
    const hash = await digest(code);
    const now = Date.now();
    let revoked: string | null = null;
    const result = this.#transaction((): CodeRedemption => {
      const row = this.#get("SELECT * FROM auth_codes WHERE hash = ?", hash);
      if (!row) return { ok: false, reason: "unknown" };
      if (row.used_at !== null) {
        if (row.session_id !== null) {
          revoked = String(row.session_id);
          this.#revokeSession(revoked, "authorization code reused", now);
        }
        return { ok: false, reason: "used" };
      }
      this.#run("UPDATE auth_codes SET used_at = ? WHERE hash = ?", now, hash);
      if (Number(row.expires_at) <= now) return { ok: false, reason: "expired" };
      return {
        ok: true,
        user_id: String(row.user_id),
        client_id: String(row.client_id),
        redirect_uri: String(row.redirect_uri),
        code_challenge: String(row.code_challenge),
        scope: row.scope === null ? null : String(row.scope),
        attach: (sessionId: string) =>
          void this.#run("UPDATE auth_codes SET session_id = ? WHERE hash = ?", sessionId, hash),
      };
    });
    if (revoked) this.#emit({ kind: "session_revoked", session_id: revoked });
    return result;
  }

  async #newTokens(sessionId: string, lifetimes: TokenLifetimes, now: number): Promise<NewTokens> {
    const access = `csat_${randomToken(32)}`;
    const refresh = `csrt_${randomToken(32)}`;
    return {
      accessHash: await digest(access),
      refreshHash: await digest(refresh),
      pair: {
        session_id: sessionId,
        access_token: access,
        refresh_token: refresh,
        expires_in: lifetimes.accessTtlSeconds,
        refresh_expires_in: lifetimes.refreshTtlSeconds,
      },
      accessExpires: now + lifetimes.accessTtlSeconds * 1000,
      refreshExpires: now + lifetimes.refreshTtlSeconds * 1000,
    };
  }

  #insertTokens(
    sessionId: string,
    tokens: NewTokens,
    now: number,
    refresh = true,
  ): void {
    const insert = "INSERT INTO tokens (hash, session_id, kind, created_at, expires_at) " +
      "VALUES (?, ?, ?, ?, ?)";
    this.#run(insert, tokens.accessHash, sessionId, "access", now, tokens.accessExpires);
    if (refresh) {
      this.#run(insert, tokens.refreshHash, sessionId, "refresh", now, tokens.refreshExpires);
    }
  }

  /** Starts a session for a user with a refresh token (offline access) and returns its tokens. */
  async createSession(
    userId: string,
    clientId: string,
    lifetimes: TokenLifetimes,
  ): Promise<TokenPair> {
    const tokens = await this.startSession(userId, clientId, lifetimes, {
      scope: null,
      offline: true,
    });
    return {
      ...tokens,
      refresh_token: tokens.refresh_token!,
      refresh_expires_in: tokens.refresh_expires_in!,
    };
  }

  /**
   * Starts a session for a user (what a successful login does) and returns its tokens: a
   * refresh token only with `offline` access. The granted scope is kept with the session.
   */
  async startSession(
    userId: string,
    clientId: string,
    lifetimes: TokenLifetimes,
    grant: { scope: string | null; offline: boolean },
  ): Promise<SessionTokens> {
    const now = Date.now();
    const sessionId = crypto.randomUUID();
    const tokens = await this.#newTokens(sessionId, lifetimes, now);
    this.#transaction(() => {
      this.#run(
        "INSERT INTO sessions (id, user_id, client_id, created_at, scope) VALUES (?, ?, ?, ?, ?)",
        sessionId,
        userId,
        clientId,
        now,
        grant.scope,
      );
      this.#insertTokens(sessionId, tokens, now, grant.offline);
    });
    return {
      ...tokens.pair,
      refresh_token: grant.offline ? tokens.pair.refresh_token : null,
      refresh_expires_in: grant.offline ? tokens.pair.refresh_expires_in : null,
      scope: grant.scope,
    };
  }

  /**
   * The refresh grant with rotation: the token is marked used and a new pair issued in the
   * same session. A token used before revokes its session (reuse detection). `narrower`, when
   * given, must be within the session's scope (else nothing changes: `scope_not_granted`).
   */
  async refresh(
    refreshToken: string,
    clientId: string,
    lifetimes: TokenLifetimes,
    narrower: string | null = null,
  ): Promise<RefreshOutcome> {
    const hash = await digest(refreshToken);
    const now = Date.now();
    const row = this.#get(
      "SELECT t.session_id, t.expires_at, t.used_at, s.user_id, s.client_id, s.revoked_at, " +
        "s.scope FROM tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ? AND t.kind = 'refresh'",
      hash,
    );
    if (!row) return { ok: false, reason: "unknown" };
    const sessionId = String(row.session_id);
    const fresh = await this.#newTokens(sessionId, lifetimes, now);
    let revokedNow = false;
    const outcome = this.#transaction((): RefreshOutcome => {
      const current = this.#get(
        "SELECT t.used_at, s.revoked_at FROM tokens t JOIN sessions s ON s.id = t.session_id " +
          "WHERE t.hash = ?",
        hash,
      )!;
      if (current.revoked_at !== null) return { ok: false, reason: "revoked" };
      if (current.used_at !== null) {
        this.#revokeSession(sessionId, "refresh token reused", now);
        revokedNow = true;
        return { ok: false, reason: "reused" };
      }
      if (Number(row.expires_at) <= now) return { ok: false, reason: "expired" };
      if (String(row.client_id) !== clientId) return { ok: false, reason: "client_mismatch" };
      const granted = row.scope === null ? [] : String(row.scope).split(" ");
      const asked = narrower === null ? null : narrower.split(" ").filter((s) => s !== "");
      if (asked?.some((scope) => !granted.includes(scope))) {
        return { ok: false, reason: "scope_not_granted" };
      }
      this.#run("UPDATE tokens SET used_at = ? WHERE hash = ?", now, hash);
      this.#insertTokens(sessionId, fresh, now);
      const scope = asked ? asked.join(" ") : row.scope === null ? null : String(row.scope);
      return { ok: true, tokens: { ...fresh.pair, scope }, user_id: String(row.user_id) };
    });
    if (revokedNow) this.#emit({ kind: "session_revoked", session_id: sessionId });
    return outcome;
  }

  /** The owner of a valid (known, unexpired, unrevoked) access token, or null. */
  async accessTokenOwner(accessToken: string): Promise<TokenOwner | null> {
    const row = this.#get(
      "SELECT t.session_id, t.expires_at, u.id AS user_id, u.org_id, u.username, u.email, " +
        "o.short_id, o.name FROM tokens t JOIN sessions s ON s.id = t.session_id " +
        "JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id " +
        "WHERE t.hash = ? AND t.kind = 'access' AND s.revoked_at IS NULL AND t.expires_at > ?",
      await digest(accessToken),
      Date.now(),
    );
    if (!row) return null;
    return {
      session_id: String(row.session_id),
      expires_at: Number(row.expires_at),
      user: {
        id: String(row.user_id),
        org_id: String(row.org_id),
        username: String(row.username),
        email: String(row.email),
      },
      organization: {
        id: String(row.org_id),
        short_id: String(row.short_id),
        name: String(row.name),
      },
    };
  }

  /** Whether a session is still active (not revoked). */
  sessionActive(sessionId: string): boolean {
    const row = this.#get("SELECT revoked_at FROM sessions WHERE id = ?", sessionId);
    return row !== undefined && row.revoked_at === null;
  }

  #revokeSession(sessionId: string, reason: string, now: number): boolean {
    return this.#run(
      "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
      now,
      reason,
      sessionId,
    ) > 0;
  }

  /** Revokes the session a token (access or refresh) belongs to; false if none was active. */
  async revokeToken(token: string, reason = "revoked"): Promise<boolean> {
    const row = this.#get("SELECT session_id FROM tokens WHERE hash = ?", await digest(token));
    if (!row) return false;
    return this.revokeSession(String(row.session_id), reason);
  }

  /** Revokes a session and every token of it. */
  revokeSession(sessionId: string, reason = "revoked"): boolean {
    const revoked = this.#revokeSession(sessionId, reason, Date.now());
    if (revoked) this.#emit({ kind: "session_revoked", session_id: sessionId });
    return revoked;
  }

  /** Deletes codes and tokens that expired more than a day ago. */
  purgeExpired(): void {
    const horizon = Date.now() - 86_400_000;
    this.#transaction(() => {
      this.#run("DELETE FROM auth_codes WHERE expires_at < ?", horizon);
      this.#run("DELETE FROM tokens WHERE expires_at < ?", horizon);
    });
  }

  /** `PRAGMA integrity_check` and foreign keys: "ok" or the problems found. */
  integrityCheck(): string {
    const rows = this.#all("PRAGMA integrity_check").map((row) => String(row.integrity_check));
    const foreign = this.#all("PRAGMA foreign_key_check");
    if (foreign.length > 0) rows.push(`${foreign.length} foreign key violation(s)`);
    return rows.join("; ");
  }
}

function organizationOf(row: Row): Organization {
  return { id: String(row.id), short_id: String(row.short_id), name: String(row.name) };
}

function userOf(row: Row): UserRecord {
  return {
    id: String(row.id),
    org_id: String(row.org_id),
    username: String(row.username),
    email: String(row.email),
  };
}

function revisionRecord(row: Row): RevisionRecord {
  return {
    revision: Number(row.revision),
    created_at: String(row.created_at),
    created_by: row.created_by === null
      ? null
      : { user_id: String(row.created_by), email: String(row.email ?? "") },
  };
}

/** The username a new user gets from their email: the local part, cleaned. */
export function usernameFromEmail(email: string): string {
  const local = email.split("@")[0].replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 64);
  return local === "" ? "user" : local;
}

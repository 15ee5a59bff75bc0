/**
 * The REST API of the control plane: `/v2/me`, the policy with optimistic concurrency, its
 * revisions, server-stage validation, simulation, and users' claims. Every route needs a
 * bearer access token and sees only the caller's organization.
 */

import {
  type AclRequest,
  CLAIM_NAME,
  compilePolicy,
  evaluate,
  type Finding,
  JsonSyntaxError,
  locate,
  parseJsonWithPositions,
  type Policy,
  type PositionNode,
  runPolicyTests,
  unsafeCharacter,
  validatePolicyDocument,
  validatePolicyText,
  type ValidationResult,
} from "../acl/mod.ts";
import type {
  ClaimUse as ApiClaimUse,
  Me,
  PolicyRevision,
  PolicyUpdateResult,
  RevisionList,
  UserClaims,
  UserList,
} from "../api/openapi_types.ts";
import {
  HttpError,
  json,
  parseJson,
  readBody,
  requireJsonType,
  type RouteContext,
  type Router,
} from "./http.ts";
import { policyUses } from "./policy_info.ts";
import { selectorSelects } from "../acl/mod.ts";
import type { PlatformStore, TokenOwner, UserRecord } from "./store.ts";

/** Longest claim value accepted. */
export const MAX_CLAIM_VALUE_LENGTH = 1024;

/** Settings of the API. */
export interface ApiOptions {
  store: PlatformStore;
  log: (line: string) => void;
}

/** Attaches the caller to a request (set by the server after checking the token). */
export type Authenticate = (request: Request) => Promise<TokenOwner>;

function etagHeaders(revision: number): Record<string, string> {
  return { etag: `"${revision}"`, "x-policy-revision": String(revision) };
}

function positiveInteger(text: string | null, name: string): number | undefined {
  if (text === null) return undefined;
  if (!/^[1-9][0-9]{0,14}$/.test(text)) {
    throw new HttpError(400, "invalid_request", `${name} must be a positive integer`);
  }
  return Number(text);
}

/** The entity tags of an `If-Match` / `If-None-Match` header, or "*". */
function entityTags(header: string): string[] | "*" {
  if (header.trim() === "*") return "*";
  return header.split(",").map((tag) => tag.trim()).filter((tag) => tag !== "");
}

/** Server-stage findings: claims no user has, selectors that select nobody. */
export function serverFindings(
  store: PlatformStore,
  orgId: string,
  document: unknown,
  positions: PositionNode | null,
): Finding[] {
  const findings: Finding[] = [];
  const place = (pointer: string) => {
    if (!positions) return {};
    const at = locate(positions, pointer);
    return { line: at.line, column: at.column };
  };
  const { claims, selectors } = policyUses(document);
  const names = store.claimNames(orgId);
  const seen = new Set<string>();
  for (const use of claims) {
    const key = `${use.pointer}\u0000${use.claim}`;
    if (names.has(use.claim) || seen.has(key)) continue;
    seen.add(key);
    const how = use.kind === "grant"
      ? `grants channels from claim "${use.claim}"`
      : `puts claim "${use.claim}" into its topic "${use.topic}"`;
    findings.push({
      severity: "warning",
      code: "claim_never_set",
      path: use.path,
      pointer: use.pointer,
      message: `${how}, but no user of this organization has that claim, so the rule ` +
        `matches nobody (set it with cloudsignal user claims set <user> --key ${use.claim} ` +
        "--value <value>)",
      ...place(use.pointer),
      stage: "server",
    });
  }
  const usernames = store.users(orgId).map((user) => user.username);
  for (const use of selectors) {
    if (usernames.some((username) => selectorSelects(use.selector, username))) continue;
    const what = use.kind === "identity" ? "publisher identity" : "user selector";
    findings.push({
      severity: "warning",
      code: use.kind === "identity" ? "publisher_matches_no_user" : "user_matches_no_user",
      path: use.path,
      pointer: use.pointer,
      message: `${what} "${use.selector}" matches no user of this organization`,
      ...place(use.pointer),
      stage: "server",
    });
  }
  return findings;
}

function describeCharacter(character: string): string {
  return character === "\u0000" ? "NUL (U+0000)" : `"${character}"`;
}

function validRequest(body: unknown, owner: TokenOwner): AclRequest {
  const fail = (message: string): never => {
    throw new HttpError(422, "invalid_request", message);
  };
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return fail("request must be an object { client, action, topic, qos?, retain? }");
  }
  const request = body as Record<string, unknown>;
  const client = request.client as Record<string, unknown> | undefined;
  if (client === null || typeof client !== "object" || Array.isArray(client)) {
    return fail("request.client must be an object { username, client_id?, claims? }");
  }
  if (typeof client.username !== "string") return fail("request.client.username must be a string");
  for (const field of ["client_id", "org_id", "org_short_id"]) {
    if (client[field] !== undefined && typeof client[field] !== "string") {
      fail(`request.client.${field} must be a string`);
    }
  }
  const claims = client.claims ?? {};
  if (claims === null || typeof claims !== "object" || Array.isArray(claims)) {
    return fail("request.client.claims must be an object of strings");
  }
  for (const [key, value] of Object.entries(claims)) {
    if (typeof value !== "string") fail(`request.client.claims.${key} must be a string`);
  }
  if (request.action !== "pub" && request.action !== "sub") {
    return fail('request.action must be "pub" or "sub"');
  }
  if (typeof request.topic !== "string") return fail("request.topic must be a string");
  if (request.qos !== undefined && request.qos !== 0 && request.qos !== 1 && request.qos !== 2) {
    return fail("request.qos must be 0, 1 or 2");
  }
  if (request.retain !== undefined && typeof request.retain !== "boolean") {
    return fail("request.retain must be true or false");
  }
  return {
    client: {
      username: client.username,
      ...(client.client_id !== undefined ? { client_id: client.client_id as string } : {}),
      org_id: (client.org_id as string | undefined) ?? owner.organization.id,
      org_short_id: (client.org_short_id as string | undefined) ?? owner.organization.short_id,
      claims: claims as Record<string, string>,
    },
    action: request.action,
    topic: request.topic,
    ...(request.qos !== undefined ? { qos: request.qos as 0 | 1 | 2 } : {}),
    ...(request.retain !== undefined ? { retain: request.retain as boolean } : {}),
  };
}

/** Adds the `/v2` routes to `router`. */
export function addApiRoutes(router: Router, options: ApiOptions, authenticate: Authenticate) {
  const { store, log } = options;
  const route = (
    method: string,
    path: string,
    handler: (context: RouteContext, owner: TokenOwner) => Promise<Response> | Response,
  ) =>
    router.on(
      method,
      path,
      async (context) => handler(context, await authenticate(context.request)),
    );

  const findUser = (owner: TokenOwner, idOrUsername: string): UserRecord => {
    const user = store.userInOrganization(owner.organization.id, idOrUsername);
    if (!user) {
      throw new HttpError(
        404,
        "user_not_found",
        `no user "${idOrUsername}" in organization ${owner.organization.name}`,
      );
    }
    return user;
  };

  const userClaims = (user: UserRecord): UserClaims => ({
    user_id: user.id,
    username: user.username,
    claims: { ...store.claims(user.id) },
  });

  route("GET", "/v2/me", (_context, owner) => {
    const me: Me = {
      user_id: owner.user.id,
      username: owner.user.username,
      email: owner.user.email,
      organization: owner.organization,
    };
    return json(me);
  });

  route("GET", "/v2/acl/policy", ({ url, request }, owner) => {
    const wanted = positiveInteger(url.searchParams.get("revision"), "revision");
    const current = store.policy(owner.organization.id).revision;
    const revision = wanted ?? current;
    const match = request.headers.get("if-none-match");
    if (match !== null) {
      const tags = entityTags(match);
      if (tags === "*" || tags.includes(`"${revision}"`)) {
        return new Response(null, { status: 304, headers: etagHeaders(revision) });
      }
    }
    const stored = store.revision(owner.organization.id, revision);
    if (!stored) {
      throw new HttpError(
        404,
        "revision_not_found",
        `revision ${revision} does not exist (the current revision is ${current})`,
      );
    }
    return new Response(stored.text, {
      status: 200,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        ...etagHeaders(revision),
      },
    });
  });

  route("PUT", "/v2/acl/policy", async ({ request }, owner) => {
    const orgId = owner.organization.id;
    const ifMatch = request.headers.get("if-match");
    if (ifMatch === null) {
      throw new HttpError(
        428,
        "precondition_required",
        'send If-Match: "<revision>" with the ETag of the policy your change is based on ' +
          '(or "*" to replace whatever is current)',
      );
    }
    const current = store.policy(orgId).revision;
    const tags = entityTags(ifMatch);
    let expected: number | null = null;
    if (tags !== "*") {
      if (!tags.includes(`"${current}"`)) throw revisionMismatch(ifMatch, current);
      expected = current;
    }
    requireJsonType(request);
    const text = await readBody(request);
    const validation = validPolicyText(text);
    const policy = validation.policy;
    const positions = validation.positions;
    const lineOf = (pointer: string) => positions ? locate(positions, pointer).line : null;
    const compiled = compilePolicy(policy, { lineOf });
    const tests = runPolicyTests(policy, compiled, lineOf);
    if (tests.failed > 0) {
      const failures = tests.outcomes.filter((outcome) => !outcome.passed);
      throw new HttpError(
        422,
        "policy_tests_failed",
        `${tests.failed} of ${tests.outcomes.length} policy test(s) failed; first: ` +
          `"${failures[0].name}" expected ${failures[0].expect}: ${failures[0].explanation}`,
        {
          findings: validation.findings,
          tests: { passed: tests.passed, failed: tests.failed, failures },
        },
      );
    }
    const findings = [
      ...validation.findings,
      ...serverFindings(store, orgId, policy, positions),
    ];
    const stored = store.putPolicy(orgId, text, expected, owner.user.id);
    if (!stored.ok) throw revisionMismatch(ifMatch, stored.current);
    log(`[api] policy of ${owner.organization.short_id} is now revision ${stored.revision}`);
    const result: PolicyUpdateResult = {
      revision: stored.revision,
      created_at: stored.created_at,
      findings,
    };
    return json(result, 200, etagHeaders(stored.revision));
  });

  route("POST", "/v2/acl/validate", async ({ request }, owner) => {
    requireJsonType(request);
    const validation = validPolicyText(await readBody(request));
    const findings = serverFindings(
      store,
      owner.organization.id,
      validation.policy,
      validation.positions,
    );
    return json({ findings });
  });

  route("POST", "/v2/acl/simulate", async ({ request }, owner) => {
    requireJsonType(request);
    const { value: body, positions } = parseJsonBody(await readBody(request));
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new HttpError(422, "invalid_request", "the body must be { request, policy? }");
    }
    const { request: raw, policy } = body as { request?: unknown; policy?: unknown };
    const aclRequest = validRequest(raw, owner);
    let compiled;
    if (policy === undefined) {
      compiled = store.policy(owner.organization.id).compiled;
    } else {
      // Findings are placed in the sent body: their lines are those of its "policy" member.
      const validation = validatePolicyDocument(policy, positions.members?.get("policy") ?? null);
      compiled = compilePolicy(requireValid(validation).policy);
    }
    return json(evaluate(compiled, aclRequest, { trace: true }));
  });

  route("GET", "/v2/acl/revisions", ({ url }, owner) => {
    const limit = positiveInteger(url.searchParams.get("limit"), "limit") ?? 100;
    if (limit > 1000) throw new HttpError(400, "invalid_request", "limit must be 1000 at most");
    const before = positiveInteger(url.searchParams.get("before"), "before");
    const revisions = store.revisions(owner.organization.id, limit + 1, before);
    const page = revisions.slice(0, limit);
    const list: RevisionList = {
      current_revision: store.policy(owner.organization.id).revision,
      revisions: page,
      next_before: revisions.length > limit ? page[page.length - 1].revision : null,
    };
    return json(list);
  });

  route("GET", "/v2/acl/revisions/{revision}", ({ params }, owner) => {
    const revision = positiveInteger(params.revision, "revision")!;
    const stored = store.revision(owner.organization.id, revision);
    if (!stored) {
      throw new HttpError(404, "revision_not_found", `revision ${revision} does not exist`);
    }
    const { text, ...record } = stored;
    const body: PolicyRevision = { ...record, policy: JSON.parse(text) };
    return json(body, 200, etagHeaders(revision));
  });

  route("GET", "/v2/users", (_context, owner) => {
    const list: UserList = {
      users: store.users(owner.organization.id).map(({ id, username, email }) => ({
        id,
        username,
        email,
      })),
    };
    return json(list);
  });

  route("GET", "/v2/users/{id}/claims", ({ params }, owner) => {
    return json(userClaims(findUser(owner, params.id)));
  });

  route("PUT", "/v2/users/{id}/claims/{key}", async ({ params, request }, owner) => {
    const user = findUser(owner, params.id);
    const key = params.key;
    if (!CLAIM_NAME.test(key)) {
      throw new HttpError(
        422,
        "invalid_claim_key",
        `invalid claim name "${key}" (a letter or _, then letters, digits, _ or -; 64 at most)`,
      );
    }
    requireJsonType(request);
    const body = parseJson(await readBody(request));
    const value = (body !== null && typeof body === "object" && !Array.isArray(body))
      ? (body as Record<string, unknown>).value
      : undefined;
    if (typeof value !== "string") {
      throw new HttpError(422, "invalid_claim_value", 'the body must be { "value": "<string>" }');
    }
    if (value.length > MAX_CLAIM_VALUE_LENGTH) {
      throw new HttpError(
        422,
        "invalid_claim_value",
        `the value is ${value.length} characters long; ${MAX_CLAIM_VALUE_LENGTH} at most`,
      );
    }
    const unsafe = unsafeCharacter(value);
    if (unsafe !== null) {
      const uses = store.policy(owner.organization.id).claims.filter((use) =>
        use.claim === key && use.kind === "substituted"
      );
      if (uses.length > 0) {
        const rules: ApiClaimUse[] = uses.map(({ path, pointer, topic }) => ({
          path,
          pointer,
          topic,
        }));
        const named = uses.map((use) => `${use.path} ("${use.topic}")`).join(", ");
        throw new HttpError(
          422,
          "unsafe_claim_value",
          `claim "${key}" is put into topics by ${named}, and its value holds ` +
            `${
              describeCharacter(unsafe)
            }: values of such claims must not contain /, +, # or NUL, ` +
            "which would change the topic's levels",
          { rules },
        );
      }
    }
    store.setClaim(user.id, key, value);
    log(`[api] claim ${key} of ${user.username}@${owner.organization.short_id} set`);
    return json(userClaims(user));
  });

  route("DELETE", "/v2/users/{id}/claims/{key}", ({ params }, owner) => {
    const user = findUser(owner, params.id);
    if (!store.deleteClaim(user.id, params.key)) {
      throw new HttpError(
        404,
        "claim_not_found",
        `user ${user.username} has no claim "${params.key}"`,
      );
    }
    log(`[api] claim ${params.key} of ${user.username}@${owner.organization.short_id} removed`);
    return json(userClaims(user));
  });
}

/** The parsed body with the positions of its values; 400 `invalid_json` with the place. */
function parseJsonBody(text: string): { value: unknown; positions: PositionNode } {
  if (text.trim() === "") throw new HttpError(400, "invalid_json", "the body is empty; send JSON");
  try {
    const parsed = parseJsonWithPositions(text);
    return { value: parsed.value, positions: parsed.positions };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new HttpError(
      400,
      "invalid_json",
      `the body is not valid JSON: ${error.message} (line ${error.at.line}, column ${error.at.column})`,
    );
  }
}

/** A validation with no error, or 422 `invalid_policy` with its findings. */
function requireValid(validation: ValidationResult): ValidationResult & { policy: Policy } {
  if (validation.valid && validation.policy) {
    return validation as ValidationResult & { policy: Policy };
  }
  const errors = validation.findings.filter((finding) => finding.severity === "error");
  throw new HttpError(
    422,
    "invalid_policy",
    `the policy has ${errors.length} error(s); first: ${errors[0]?.path} - ${errors[0]?.message}`,
    { findings: validation.findings },
  );
}

/**
 * A policy sent as the body, validated as a file would be (syntax, duplicate keys, schema,
 * semantic checks): 400 `invalid_json` for a syntax error, 422 `invalid_policy` for errors.
 */
function validPolicyText(text: string): ValidationResult & { policy: Policy } {
  if (text.trim() === "") throw new HttpError(400, "invalid_json", "the body is empty; send JSON");
  const validation = validatePolicyText(text);
  const syntax = validation.findings.find((finding) => finding.code === "json_syntax");
  if (syntax) {
    throw new HttpError(
      400,
      "invalid_json",
      `${syntax.message} (line ${syntax.line}, column ${syntax.column})`,
      { findings: validation.findings },
    );
  }
  return requireValid(validation);
}

function revisionMismatch(ifMatch: string, current: number): HttpError {
  return new HttpError(
    412,
    "revision_mismatch",
    `the policy changed: If-Match ${ifMatch} is not the current revision "${current}"; ` +
      "fetch it again and reapply your change",
    { current_revision: current },
    { etag: `"${current}"` },
  );
}

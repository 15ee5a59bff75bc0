/**
 * The typed client of `schemas/openapi.json`: one method per endpoint the CLI uses, with the
 * endpoint's own failures (412, 422, unknown user or claim) turned into specific errors.
 */

import type { OperationContext } from "../core/context.ts";
import { OperationError } from "../core/errors.ts";
import type {
  AclRequest,
  ClaimError,
  Decision,
  Finding,
  InvalidPolicyError,
  Policy,
  PolicyRevision,
  PolicyUpdateResult,
  RevisionList,
  RevisionMismatchError,
  User,
  UserClaims,
  UserList,
  ValidationResult,
} from "./openapi_types.ts";
import { type ApiCall, bodyOf, failure, send } from "./request.ts";
import { UnavailableError } from "../core/errors.ts";
import { getAccessToken, type Me, parseMe } from "../auth/session.ts";
import { printable } from "../core/printable.ts";

/** A policy as the API holds it, with its revision. */
export interface RevisedPolicy {
  policy: Policy;
  revision: number;
}

/** Someone changed the policy since the revision an update was based on (HTTP 412). */
export class RevisionConflictError extends OperationError {
  constructor(readonly base: number | "*", readonly current: number) {
    super(
      `the policy changed since revision ${base}: it is now revision ${current}; nothing was written`,
      [
        "Someone else updated it. To merge:",
        `  cloudsignal acl get -o live.json         # revision ${current}, in a file of its own`,
        "  (merge your changes into live.json)",
        "  cloudsignal acl update live.json",
        `To replace their changes with your file: cloudsignal acl update <file> --if-revision ${current}`,
      ].join("\n"),
      "revision_conflict",
    );
    this.name = "RevisionConflictError";
  }
}

/** The API refused a policy (HTTP 422): findings or failed tests. */
export class PolicyRejectedError extends OperationError {
  constructor(readonly detail: InvalidPolicyError) {
    super(`the API refused the policy: ${printable(detail.message)}`, undefined, "policy_invalid");
    this.name = "PolicyRejectedError";
  }
}

function revisionOf(etag: string | null, fallback: string | null): number {
  const text = etag?.replace(/^W\//, "").replaceAll('"', "") ?? fallback ?? "";
  const revision = Number(text);
  if (!Number.isInteger(revision) || revision < 0) {
    throw new UnavailableError(
      "the API answered the policy without a revision (ETag header)",
      "Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
    );
  }
  return revision;
}

/** The CLI's view of the CloudSignal API. */
export class ApiClient {
  constructor(private readonly context: OperationContext) {}

  async #json<T>(call: ApiCall, expected = 200): Promise<T> {
    const response = await send(this.context, call);
    if (response.status !== expected) throw failure(this.context, call, response);
    return bodyOf<T>(response);
  }

  /** The organization the credentials act for: from the stored session, else `/v2/me`. */
  async organization(): Promise<{ id: string; short_id: string; name: string }> {
    const access = await getAccessToken(this.context);
    return access.session?.organization ?? (await this.me()).organization;
  }

  /**
   * `GET /v2/me`, checked before anything uses it: a body without the user and organization
   * is the server's fault (`UnavailableError`, exit 5), never a crash after output.
   */
  async me(): Promise<Me> {
    const body = await this.#json<unknown>({
      method: "GET",
      path: "/v2/me",
      repeatable: true,
      purpose: "say who you are",
    });
    try {
      return parseMe(body, `${this.context.apiUrl}/v2/me`);
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      throw new UnavailableError(
        printable(error.message),
        "The API answered something this CLI cannot use. Is the API URL right (--api-url / CLOUDSIGNAL_API_URL)?",
      );
    }
  }

  /** The live policy, or one revision of it. */
  async policy(revision?: number): Promise<RevisedPolicy> {
    if (revision !== undefined) {
      const call: ApiCall = {
        method: "GET",
        path: `/v2/acl/revisions/${revision}`,
        repeatable: true,
        purpose: `fetch policy revision ${revision}`,
      };
      const response = await send(this.context, call);
      if (response.status === 404) {
        throw new OperationError(
          `the organization has no policy revision ${revision}`,
          "List them with: cloudsignal acl revisions",
        );
      }
      if (response.status !== 200) throw failure(this.context, call, response);
      const body = bodyOf<PolicyRevision>(response);
      return { policy: body.policy, revision: body.revision };
    }
    const call: ApiCall = {
      method: "GET",
      path: "/v2/acl/policy",
      repeatable: true,
      purpose: "fetch the policy",
    };
    const response = await send(this.context, call);
    if (response.status !== 200) throw failure(this.context, call, response);
    return {
      policy: bodyOf<Policy>(response),
      revision: revisionOf(response.headers.get("etag"), response.headers.get("x-policy-revision")),
    };
  }

  /**
   * Replaces the policy if its revision is still `base` (`"*"`: whatever it is). Never
   * retried: a lost answer to a write must not turn into a second write.
   */
  async updatePolicy(policy: Policy, base: number | "*"): Promise<PolicyUpdateResult> {
    const call: ApiCall = {
      method: "PUT",
      path: "/v2/acl/policy",
      json: policy,
      headers: { "if-match": base === "*" ? "*" : `"${base}"` },
      repeatable: false,
      purpose: "update the policy",
    };
    const response = await send(this.context, call);
    if (response.status === 200) return bodyOf<PolicyUpdateResult>(response);
    if (response.status === 412) {
      const body = bodyOf<RevisionMismatchError>(response);
      throw new RevisionConflictError(base, body.current_revision);
    }
    if (response.status === 422) {
      throw new PolicyRejectedError(bodyOf<InvalidPolicyError>(response));
    }
    throw failure(this.context, call, response);
  }

  /** The server stage of validation: findings about the organization's state. */
  async validate(policy: Policy): Promise<Finding[]> {
    const call: ApiCall = {
      method: "POST",
      path: "/v2/acl/validate",
      json: policy,
      repeatable: true,
      purpose: "validate the policy",
    };
    const response = await send(this.context, call);
    if (response.status === 422) {
      throw new PolicyRejectedError(bodyOf<InvalidPolicyError>(response));
    }
    if (response.status !== 200) throw failure(this.context, call, response);
    const result = bodyOf<ValidationResult>(response);
    return result.findings.map((finding) => ({
      ...finding,
      code: printable(String(finding.code), 100),
      path: printable(String(finding.path), 100),
      message: printable(String(finding.message), 1000),
      stage: "server",
    }));
  }

  /** The server's decision, with the live policy or `policy`. */
  async simulate(request: AclRequest, policy?: Policy): Promise<Decision> {
    const call: ApiCall = {
      method: "POST",
      path: "/v2/acl/simulate",
      json: policy ? { request, policy } : { request },
      repeatable: true,
      purpose: "simulate the request",
    };
    const response = await send(this.context, call);
    if (response.status === 422) {
      throw new PolicyRejectedError(bodyOf<InvalidPolicyError>(response));
    }
    if (response.status !== 200) throw failure(this.context, call, response);
    return bodyOf<Decision>(response);
  }

  /** Revisions, newest first: at most `limit`, older than `before` when given. */
  revisions(page: { limit?: number; before?: number } = {}): Promise<RevisionList> {
    const query: Record<string, string> = {};
    if (page.limit !== undefined) query.limit = String(page.limit);
    if (page.before !== undefined) query.before = String(page.before);
    return this.#json({
      method: "GET",
      path: "/v2/acl/revisions",
      query,
      repeatable: true,
      purpose: "list the policy revisions",
    });
  }

  /** The organization's users. */
  async users(): Promise<User[]> {
    const list = await this.#json<UserList>({
      method: "GET",
      path: "/v2/users",
      repeatable: true,
      purpose: "list the users",
    });
    return list.users;
  }

  async #claimsCall(call: ApiCall, user: string, key?: string): Promise<UserClaims> {
    const response = await send(this.context, call);
    if (response.status === 200) return bodyOf<UserClaims>(response);
    if (response.status === 404) {
      const said = bodyOf<{ error?: string; message?: string }>(response);
      if (said.error === "claim_not_found" && key !== undefined) {
        throw new OperationError(
          `user ${user} has no claim "${key}"`,
          `See them with: cloudsignal user claims show ${user}`,
        );
      }
      throw new OperationError(
        `no user "${user}" in your organization`,
        "Give the user's id or username (the MQTT username without @<organization>); " +
          "`cloudsignal user list` lists them.",
      );
    }
    if (response.status === 422) {
      const said = bodyOf<ClaimError>(response);
      const rules = (said.rules ?? []).map((rule) =>
        `  ${printable(String(rule.path))}: ${printable(String(rule.topic))}`
      ).join("\n");
      throw new OperationError(
        printable(String(said.message)),
        rules ? `Rules that use it:\n${rules}` : undefined,
      );
    }
    throw failure(this.context, call, response);
  }

  /** A user's claims (`user` is an id or a username). */
  claims(user: string): Promise<UserClaims> {
    return this.#claimsCall({
      method: "GET",
      path: `/v2/users/${encodeURIComponent(user)}/claims`,
      repeatable: true,
      purpose: `read the claims of ${user}`,
    }, user);
  }

  /** Sets one claim. */
  setClaim(user: string, key: string, value: string): Promise<UserClaims> {
    return this.#claimsCall(
      {
        method: "PUT",
        path: `/v2/users/${encodeURIComponent(user)}/claims/${encodeURIComponent(key)}`,
        json: { value },
        repeatable: false,
        purpose: `set claim "${key}" of ${user}`,
      },
      user,
      key,
    );
  }

  /** Removes one claim. */
  unsetClaim(user: string, key: string): Promise<UserClaims> {
    return this.#claimsCall(
      {
        method: "DELETE",
        path: `/v2/users/${encodeURIComponent(user)}/claims/${encodeURIComponent(key)}`,
        repeatable: false,
        purpose: `remove claim "${key}" of ${user}`,
      },
      user,
      key,
    );
  }
}

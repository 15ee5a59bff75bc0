/**
 * Deciding a hypothetical PUBLISH or SUBSCRIBE with the shared evaluator: with a given
 * policy or the organization's live one, a user's real identity and claims, and optionally
 * the server deciding the same request, with every difference listed.
 */

import type { OperationContext } from "../core/context.ts";
import { step } from "../core/context.ts";
import { UsageError } from "../core/errors.ts";
import { quoted } from "../core/printable.ts";
import type { AclRequest, ClientIdentity, Decision, Policy, QoS } from "../acl/types.ts";
import { CLAIM_NAME } from "../acl/template.ts";
import { evaluate } from "../acl/evaluate.ts";
import { type DenialReason, explainDenial } from "../acl/explain.ts";
import { type PlatformNote, platformNotes } from "../acl/platform_limits.ts";
import { type CompiledPolicy, compilePolicy } from "../acl/compile.ts";
import { loadValidPolicy, type PolicyInput } from "./source.ts";

/** The identity fields of a simulated client; all optional, `user` can supply them. */
export interface SimulatedClient {
  username?: string;
  client_id?: string;
  org_id?: string;
  org_short_id?: string;
  claims?: Record<string, string>;
}

/** Input of `simulate`. */
export interface SimulateInput {
  action: "pub" | "sub";
  topic: string;
  qos?: QoS;
  retain?: boolean;
  /** Identity fields; they override those of `user`. */
  client?: SimulatedClient;
  /** A user of the organization (id or username) whose username and claims to use. */
  user?: string;
  /** The policy to decide with; the organization's live policy when absent. */
  policy?: PolicyInput;
  /** Ask the API to decide the same request and list every difference. */
  compareServer?: boolean;
}

/** A simulated decision. */
export interface SimulateOutcome {
  request: AclRequest;
  /** The decision, with every rule's verdict in `trace`. */
  decision: Decision;
  /**
   * For a denial by default: the allow rule that a missing claim or client id, the QoS or
   * retain kept from applying; null otherwise.
   */
  why: DenialReason | null;
  /** The policy's name when one was given; null for the live policy. */
  source: string | null;
  /** The live policy's revision when it was used. */
  revision: number | null;
  /** The given policy, to let the server decide with the same one. */
  policy: Policy | null;
  /** The server's decision and how it differs, with `compareServer`. */
  server: { decision: Decision; differences: string[] } | null;
  /** What the local broker of `cloudsignal dev` does with this request beyond the policy. */
  platform_notes: PlatformNote[];
}

/** Builds the request, checking the input; `base` supplies the identity of `user`. */
export function buildRequest(input: SimulateInput, base?: ClientIdentity): AclRequest {
  if (input.action !== "pub" && input.action !== "sub") {
    throw new UsageError(
      `action must be pub or sub (got ${quoted(input.action)})`,
      undefined,
      "action",
    );
  }
  if (input.qos !== undefined && input.qos !== 0 && input.qos !== 1 && input.qos !== 2) {
    throw new UsageError(`qos must be 0, 1 or 2 (got ${quoted(input.qos)})`, undefined, "qos");
  }
  if (input.retain && input.action === "sub") {
    throw new UsageError("retain applies to publishes only (action pub)", undefined, "retain");
  }
  if (typeof input.topic !== "string") {
    throw new UsageError("topic must be a string", undefined, "topic");
  }
  const given = input.client ?? {};
  for (const key of Object.keys(given.claims ?? {})) {
    if (!CLAIM_NAME.test(key)) {
      throw new UsageError(
        `invalid claim name ${quoted(key)} ` +
          "(a letter or _, then letters, digits, _ or -; 64 at most)",
        undefined,
        "claims",
      );
    }
  }
  const username = given.username ?? base?.username;
  if (username === undefined) {
    throw new UsageError(
      "a username is required (or a user of the organization whose identity to use)",
      undefined,
      "username",
    );
  }
  const client: ClientIdentity = {
    ...base,
    username,
    claims: { ...base?.claims, ...given.claims },
  };
  if (given.client_id !== undefined) client.client_id = given.client_id;
  if (given.org_id !== undefined) client.org_id = given.org_id;
  if (given.org_short_id !== undefined) client.org_short_id = given.org_short_id;
  return {
    client,
    action: input.action,
    topic: input.topic,
    qos: input.qos,
    retain: input.retain === true,
  };
}

/** What the two evaluators must agree on. */
function essence(decision: Decision) {
  return {
    decision: decision.decision,
    reason: decision.reason,
    rule: decision.matched?.pointer ?? null,
    resolved_topic: decision.matched?.resolved_topic ?? null,
    granted_qos: decision.granted_qos,
    applying: (decision.trace ?? []).filter((entry) => entry.applies).map((entry) => entry.pointer),
  };
}

/** The differences between two decisions, one line each; empty when they agree. */
export function decisionDifferences(local: Decision, server: Decision): string[] {
  const a = essence(local);
  const b = essence(server);
  return (Object.keys(a) as (keyof typeof a)[])
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => `${key}: this CLI ${quoted(a[key])}, the server ${quoted(b[key])}`);
}

/** Decides `request` with every rule's verdict. */
export function decide(policy: CompiledPolicy, request: AclRequest): Decision {
  return evaluate(policy, request, { trace: true });
}

/** True when `simulate` needs nothing from the API (a given policy, no user, no comparison). */
export function isOffline(input: SimulateInput): boolean {
  return input.policy !== undefined && input.user === undefined && !input.compareServer;
}

/**
 * Decides a hypothetical request. `PolicyInvalidError` when the given policy has errors;
 * nothing is fetched when the simulation is offline.
 */
export async function simulate(
  context: OperationContext,
  input: SimulateInput,
): Promise<SimulateOutcome> {
  // Bad input is reported before anything is read or fetched.
  buildRequest(input, input.user === undefined ? undefined : { username: "", claims: {} });
  const loaded = input.policy === undefined ? null : await loadValidPolicy(input.policy);
  if (isOffline(input)) {
    const request = buildRequest(input);
    const decision = decide(loaded!.compiled, request);
    return {
      request,
      decision,
      why: explainDenial(loaded!.compiled, request, decision),
      source: loaded!.name,
      revision: null,
      policy: loaded!.policy,
      server: null,
      platform_notes: platformNotes(request),
    };
  }
  const { ApiClient } = await import("../api/client.ts");
  const client = new ApiClient(context);
  let base: ClientIdentity | undefined;
  if (input.user !== undefined) {
    const user = input.user;
    const claims = await step(context, `Fetching the claims of ${user}`, () => client.claims(user));
    base = { username: claims.username, claims: claims.claims };
  }
  const request = buildRequest(input, base);
  let compiled: CompiledPolicy;
  let policy: Policy | undefined;
  let revision: number | null = null;
  if (loaded) {
    compiled = loaded.compiled;
    policy = loaded.policy;
  } else {
    const live = await step(context, "Fetching the live policy", () => client.policy());
    compiled = compilePolicy(live.policy);
    revision = live.revision;
  }
  const decision = decide(compiled, request);
  const outcome: SimulateOutcome = {
    request,
    decision,
    why: explainDenial(compiled, request, decision),
    source: loaded?.name ?? null,
    revision,
    policy: policy ?? null,
    server: null,
    platform_notes: platformNotes(request),
  };
  if (input.compareServer) outcome.server = await compareWithServer(context, outcome);
  return outcome;
}

/** Asks the API to decide the same request (with the same given policy) and compares. */
export async function compareWithServer(
  context: OperationContext,
  outcome: SimulateOutcome,
): Promise<{ decision: Decision; differences: string[] }> {
  const { ApiClient } = await import("../api/client.ts");
  const client = new ApiClient(context);
  const theirs = await step(
    context,
    "Asking the server",
    () => client.simulate(outcome.request, outcome.policy ?? undefined),
  );
  return { decision: theirs, differences: decisionDifferences(outcome.decision, theirs) };
}

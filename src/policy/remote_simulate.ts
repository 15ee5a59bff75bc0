/**
 * `acl simulate` against the organization: the live policy when no `--policy` is given, a
 * user's real identity with `--user`, and `--compare-server`, which asks the API to decide the
 * same request and fails loudly on any difference from the local evaluator.
 */

import type { CliContext } from "../cli/program.ts";
import { CliError } from "../cli/errors.ts";
import { withProgress } from "../cli/progress.ts";
import { ApiClient } from "../api/client.ts";
import { quoted } from "../cli/printable.ts";
import type { AclRequest, ClientIdentity, Decision, Policy } from "../acl/types.ts";
import { type CompiledPolicy, compilePolicy } from "../acl/compile.ts";
import { loadValidPolicy } from "./local_policy.ts";
import {
  type OutputFlags,
  reportDecision,
  type RequestFlags,
  requestFromFlags,
  simulate,
} from "./simulate.ts";

/** Flags of `acl simulate`. */
export interface SimulateFlags extends RequestFlags, OutputFlags {
  policy?: string;
  user?: string;
  compareServer?: boolean;
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

/** Runs `acl simulate` with any of the remote options. */
export async function simulateCommand(context: CliContext, flags: SimulateFlags): Promise<number> {
  const { io } = context;
  // Bad flags are reported before any network call.
  requestFromFlags(flags, flags.user === undefined ? undefined : { username: "" });
  const client = new ApiClient(context);
  let base: ClientIdentity | undefined;
  if (flags.user !== undefined) {
    const user = await withProgress(
      io,
      `Fetching the claims of ${flags.user}`,
      () => client.claims(flags.user!),
    );
    base = { username: user.username, claims: user.claims };
  }
  const request: AclRequest = requestFromFlags(flags, base);
  let compiled: CompiledPolicy;
  let policy: Policy | undefined;
  let source: string | undefined;
  if (flags.policy !== undefined) {
    const loaded = await loadValidPolicy(io, flags.policy);
    compiled = loaded.compiled;
    policy = loaded.policy;
    source = loaded.name;
  } else {
    const live = await withProgress(io, "Fetching the live policy", () => client.policy());
    compiled = compilePolicy(live.policy);
  }
  const decision = simulate(compiled, request);
  const code = reportDecision(io, decision, request, flags, source);
  if (!flags.compareServer) return code;
  const server = await withProgress(
    io,
    "Asking the server",
    () => client.simulate(request, policy),
  );
  const differences = decisionDifferences(decision, server);
  if (differences.length > 0) {
    throw new CliError(
      "the server decided differently from this CLI's evaluator:\n" +
        differences.map((line) => `  ${line}`).join("\n"),
      1,
      "The CLI and the server should run the same evaluator; report this with both versions (cloudsignal --version).",
    );
  }
  io.err(`The server agrees (${decision.decision}, ${decision.reason}).\n`);
  return code;
}

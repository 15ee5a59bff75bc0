/**
 * `acl simulate`: builds the request from flags, decides it with the shared evaluator, and
 * prints the decision in the dashboard simulator's form or as JSON.
 */

import type { CliContext } from "../../cli/program.ts";
import type { Io } from "../../cli/io.ts";
import { EXIT_DENIED, EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import { OperationError, UsageError } from "../../core/errors.ts";
import { quoted } from "../../core/printable.ts";
import type { AclRequest, Decision, QoS } from "../../acl/types.ts";
import { CLAIM_NAME } from "../../acl/template.ts";
import { type DenialReason, describeDecision, describeDenial } from "../../acl/explain.ts";
import { compareWithServer, simulate, type SimulateInput } from "../../policy/simulate.ts";
import { reportingInvalidPolicy } from "./policy_errors.ts";

/** The flags of `acl simulate`. */
export interface SimulateFlags {
  username?: string;
  clientId?: string;
  orgId?: string;
  orgShortId?: string;
  claim?: string[];
  topic: string;
  action: string;
  qos?: string;
  retain?: boolean;
  policy?: string;
  user?: string;
  compareServer?: boolean;
  json?: boolean;
  exitStatus?: boolean;
  trace?: boolean;
}

/** Parses repeated `--claim key=value` flags. */
export function parseClaims(pairs: string[]): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals < 0) {
      throw new UsageError(`--claim ${JSON.stringify(pair)} needs the form key=value`);
    }
    const key = pair.slice(0, equals);
    if (!CLAIM_NAME.test(key)) {
      throw new UsageError(
        `--claim: invalid claim name ${JSON.stringify(key)} ` +
          "(a letter or _, then letters, digits, _ or -; 64 at most)",
      );
    }
    claims[key] = pair.slice(equals + 1);
  }
  return claims;
}

/** The operation's input from the flags, with every flag checked (messages name the flag). */
export function inputFromFlags(flags: SimulateFlags): SimulateInput {
  if (flags.action !== "pub" && flags.action !== "sub") {
    throw new UsageError(`--action must be pub or sub (got ${JSON.stringify(flags.action)})`);
  }
  let qos: QoS | undefined;
  if (flags.qos !== undefined) {
    if (!/^[012]$/.test(flags.qos)) {
      throw new UsageError(`--qos must be 0, 1 or 2 (got ${JSON.stringify(flags.qos)})`);
    }
    qos = Number(flags.qos) as QoS;
  }
  if (flags.retain && flags.action === "sub") {
    throw new UsageError("--retain applies to publishes only (use it with --action pub)");
  }
  if (flags.username === undefined && flags.user === undefined) {
    throw new UsageError("--username is required (or --user to load a user's identity)");
  }
  const client: SimulateInput["client"] = { claims: parseClaims(flags.claim ?? []) };
  if (flags.username !== undefined) client.username = flags.username;
  if (flags.clientId !== undefined) client.client_id = flags.clientId;
  if (flags.orgId !== undefined) client.org_id = flags.orgId;
  if (flags.orgShortId !== undefined) client.org_short_id = flags.orgShortId;
  return {
    action: flags.action,
    topic: flags.topic,
    qos,
    retain: flags.retain,
    client,
    user: flags.user,
    policy: flags.policy === undefined ? undefined : { path: flags.policy },
  };
}

const VARIABLE_FLAGS = {
  client_id: "--client-id",
  org_id: "--org-id",
  org_short_id: "--org-short-id",
};

/** The flags that would give a request what a rule needs, e.g. `--claim agent_id=scout`. */
export function shortfallFlags(why: DenialReason, user?: string): string {
  const fixes: string[] = [];
  for (const shortfall of why.missing) {
    if (shortfall.kind === "claim") {
      fixes.push(
        user === undefined
          ? `--claim ${shortfall.name}=${shortfall.value}`
          : `cloudsignal user claims set ${user} --key ${shortfall.name} --value ${shortfall.value}`,
      );
    } else if (shortfall.kind === "variable") {
      fixes.push(`${VARIABLE_FLAGS[shortfall.name]} ${shortfall.value}`);
    } else if (shortfall.kind === "qos") {
      const below = shortfall.allowed.filter((qos) => qos < shortfall.requested);
      fixes.push(`--qos ${below.length > 0 ? below[below.length - 1] : shortfall.allowed[0]}`);
    }
  }
  if (why.missing.some((shortfall) => shortfall.kind === "retain")) fixes.push("without --retain");
  return quoted(fixes.join(" ")).slice(1, -1);
}

/**
 * Human output: the verdict line, why a denial by default happened when an allow rule was
 * close, the granted QoS, where the rule is, and on request the trace.
 */
export function formatDecision(
  decision: Decision,
  request: AclRequest,
  io: Io,
  options: { trace?: boolean; source?: string; why?: DenialReason | null; user?: string } = {},
): string {
  const style = io.outStyle;
  const verdict = describeDecision(decision, request);
  const lines = [decision.decision === "allow" ? style.green(verdict) : style.red(verdict)];
  if (options.why) {
    lines.push(
      `  why: ${describeDenial(options.why)}; try ${shortfallFlags(options.why, options.user)}`,
    );
    if (options.why.line && options.source) {
      lines.push(style.dim(`  at ${options.source}:${options.why.line}`));
    }
  }
  if (decision.decision === "allow" && request.action === "sub" && decision.granted_qos !== null) {
    lines.push(`  granted QoS ${decision.granted_qos}`);
  }
  if (decision.matched?.line && options.source) {
    lines.push(style.dim(`  at ${options.source}:${decision.matched.line}`));
  }
  if (options.trace) {
    lines.push("", "Rules:");
    for (const entry of decision.trace ?? []) {
      const mark = entry.applies ? (entry.effect === "deny" ? "deny " : "allow") : "  -  ";
      lines.push(`  ${mark} ${entry.pointer}  ${style.dim(entry.why)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Runs `acl simulate`: prints the decision, then compares with the server when asked. */
export async function runSimulate(context: CliContext, flags: SimulateFlags): Promise<number> {
  const { io } = context;
  const input = inputFromFlags(flags);
  const outcome = await reportingInvalidPolicy(io, () => simulate(context, input));
  const { decision, request } = outcome;
  if (flags.json) printJson(io, { ...decision, platform_notes: outcome.platform_notes });
  else {
    io.out(
      formatDecision(decision, request, io, {
        trace: flags.trace,
        source: outcome.source ?? undefined,
        why: outcome.why,
        user: flags.user,
      }),
    );
    for (const note of outcome.platform_notes) {
      io.out(io.outStyle.yellow(`note (cloudsignal dev): ${note.message}\n`));
    }
  }
  const code = flags.exitStatus && decision.decision === "deny" ? EXIT_DENIED : EXIT_OK;
  if (!flags.compareServer) return code;
  const server = await compareWithServer(context, outcome);
  if (server.differences.length > 0) {
    throw new OperationError(
      "the server decided differently from this CLI's evaluator:\n" +
        server.differences.map((line) => `  ${line}`).join("\n"),
      "The CLI and the server should run the same evaluator; report this with both versions (cloudsignal --version).",
    );
  }
  io.err(`The server agrees (${decision.decision}, ${decision.reason}).\n`);
  return code;
}

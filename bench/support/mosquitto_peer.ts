/**
 * mosquitto as a peer for the evaluator benchmark: a policy translated into a mosquitto
 * acl_file, the requests in the peer's input format, which requests both can decide alike
 * (and why the others cannot), and the peer program (mosquitto_peer.c, built with gcc against
 * Debian's libmosquitto-dev) driven over pipes.
 */

import type { AclRequest, Policy, QoS, Rule } from "../../src/acl/types.ts";
import { compileTemplate, HASH, type Level, LIT, PLUS, TMPL } from "../../src/acl/template.ts";
import { filterMatchesTopic, topicError } from "../../src/acl/topic.ts";
import { selectorSelects } from "../../src/acl/selector.ts";

/** Why a rule has no exact mosquitto line (its line only approximates it). */
export type Approximation =
  | "prefix user selector"
  | "claim, channel or organization placeholder"
  | "client id placeholder in one user's rule"
  | "deny rule"
  | "literal %u or %c";

/** One rule as a line of the peer's acl_file. */
export interface PeerLine {
  /** The `user` block the line sits in; null for a `pattern` line (every client). */
  user: string | null;
  access: "read" | "write" | "readwrite" | "deny";
  topic: string;
  /** Why the line only approximates the rule; null when it is exact. */
  approximation: Approximation | null;
  /** The rule's QoS levels and retain flag, which mosquitto cannot limit. */
  qos: QoS[];
  retain: boolean;
  /** The rule's own topic and selector, placeholders read as `+`. */
  ruleShape: string;
  selector: string;
  actions: ("pub" | "sub")[];
}

/** A policy as a mosquitto acl_file. */
export interface PeerAcl {
  text: string;
  lines: PeerLine[];
  /**
   * The lines by the literal levels their topic and their rule's topic both start with
   * (`tenants/t5/`): a topic can only touch the lines under one of its own level prefixes.
   */
  byPrefix: Map<string, PeerLine[]>;
}

/** The whole literal levels `topic` starts with, each followed by `/` (`""` for none). */
function literalLevels(topic: string): string {
  const wild = topic.search(/[+#%]/);
  const literal = wild < 0 ? topic : topic.slice(0, wild);
  return literal.slice(0, literal.lastIndexOf("/") + 1);
}

/** The level prefixes of a topic name, `""` first: `a/b/c` has `""`, `a/` and `a/b/`. */
function levelPrefixes(topic: string): string[] {
  const prefixes = [""];
  for (let slash = topic.indexOf("/"); slash >= 0; slash = topic.indexOf("/", slash + 1)) {
    prefixes.push(topic.slice(0, slash + 1));
  }
  return prefixes;
}

const SUBSTITUTED = { username: "%u", client_id: "%c" } as const;

/** A level as mosquitto can write it, or null when it holds a placeholder mosquitto lacks. */
function peerLevel(level: Level, user: string | null): string | null {
  if (level.kind !== TMPL) return level.text;
  const parts = level.prefix ?? [];
  if (level.channel || (level.suffix?.length ?? 0) > 0 || parts.length !== 1) return null;
  const [part] = parts;
  if (part.kind !== "var" || !(part.value === "username" || part.value === "client_id")) {
    return null;
  }
  if (user === null) return SUBSTITUTED[part.value];
  return part.value === "username" ? user : null;
}

function lineOf(rule: Rule, version: Policy["version"]): PeerLine {
  const selector = rule.user ?? "*";
  const user = selector === "*" || selector.endsWith("*") ? null : selector;
  const { levels } = compileTemplate(rule.topic, { binding: rule.binding, version });
  let approximation: Approximation | null = null;
  const texts = levels.map((level) => {
    const text = peerLevel(level, user);
    if (text !== null) return text;
    approximation ??= user !== null && level.prefix?.[0]?.kind === "var" &&
        level.prefix[0].value === "client_id" && level.prefix.length === 1
      ? "client id placeholder in one user's rule"
      : "claim, channel or organization placeholder";
    return "+";
  });
  if (levels.some((level) => level.kind === LIT && /%[uc]/.test(level.text))) {
    approximation = "literal %u or %c";
  }
  if (selector !== "*" && selector.endsWith("*")) approximation = "prefix user selector";
  if (rule.effect === "deny") approximation = "deny rule";
  const actions: ("pub" | "sub")[] = rule.action === "pub+sub" ? ["pub", "sub"] : [rule.action];
  return {
    user,
    access: rule.effect === "deny"
      ? "deny"
      : rule.action === "pub"
      ? "write"
      : rule.action === "sub"
      ? "read"
      : "readwrite",
    topic: texts.join("/"),
    approximation,
    qos: rule.qos ?? [0, 1, 2],
    retain: rule.retain ?? true,
    ruleShape: levels.map((level) =>
      level.kind === LIT || level.kind === PLUS || level.kind === HASH ? level.text : "+"
    ).join("/"),
    selector,
    actions,
  };
}

// deno-lint-ignore no-control-regex -- the peer's files are split on these characters
const LINE_BREAKING = /[\t\n\r\u0000]/;

/** Whether a text can stand in the peer's line-based files. */
function plain(text: string): boolean {
  return !LINE_BREAKING.test(text) && text.trim() === text && text.length > 0;
}

/**
 * Translates a policy into one acl_file line per rule (a publisher's topics one by one), in
 * document order: rules for one exact user as `topic` lines of a `user` block, the others as
 * `pattern` lines, `{username}` and `{client_id}` levels as `%u` and `%c`, and what mosquitto
 * cannot say approximated (the line says why).
 */
export function translatePolicy(policy: Policy): PeerAcl {
  const rules: Rule[] = [...(policy.global ?? []), ...(policy.rules ?? [])];
  for (const publisher of policy.publishers ?? []) {
    for (const topic of publisher.topics) {
      rules.push({
        topic,
        action: "pub",
        user: publisher.identity,
        ...(publisher.qos ? { qos: publisher.qos } : {}),
        ...(publisher.retain === undefined ? {} : { retain: publisher.retain }),
      });
    }
  }
  const lines = rules.map((rule) => lineOf(rule, policy.version));
  const patterns: string[] = [];
  const byUser = new Map<string, string[]>();
  for (const line of lines) {
    if (!plain(line.topic) || (line.user !== null && !plain(line.user))) {
      throw new Error(`the peer's acl_file cannot hold ${JSON.stringify(line)}`);
    }
    const text = `${line.user === null ? "pattern" : "topic"} ${line.access} ${line.topic}`;
    if (line.user === null) patterns.push(text);
    else {
      const list = byUser.get(line.user) ?? [];
      byUser.set(line.user, list);
      list.push(text);
    }
  }
  const blocks = [...byUser].map(([user, list]) => `user ${user}\n${list.join("\n")}`);
  const byPrefix = new Map<string, PeerLine[]>();
  for (const line of lines) {
    const [a, b] = [literalLevels(line.topic), literalLevels(line.ruleShape)];
    const key = a.length < b.length ? a : b;
    const list = byPrefix.get(key) ?? [];
    byPrefix.set(key, list);
    list.push(line);
  }
  return { text: [...patterns, ...blocks].join("\n") + "\n", lines, byPrefix };
}

/** The requests as the peer reads them: access, username, client id and topic per line. */
export function peerRequests(requests: AclRequest[]): string {
  return requests.map((request) => {
    const fields = [
      request.action === "pub" ? "w" : "r",
      request.client.username,
      request.client.client_id ?? "",
      request.topic,
    ];
    if (fields.some((field) => LINE_BREAKING.test(field))) {
      throw new Error(`the peer cannot read ${JSON.stringify(request)}`);
    }
    return fields.join("\t");
  }).join("\n") + "\n";
}

/** The line's topic for this client, or null when mosquitto skips the line for it. */
function substituted(line: PeerLine, request: AclRequest): string | null {
  if (line.user !== null) return line.topic;
  const { username, client_id: id } = request.client;
  if ((line.topic.includes("%u") && !username) || (line.topic.includes("%c") && !id)) return null;
  return line.topic.replaceAll("%u", username).replaceAll("%c", id ?? "");
}

function restrictionBites(line: PeerLine, request: AclRequest): boolean {
  const qos = request.qos ?? 0;
  if (request.action === "pub") {
    return !line.qos.includes(qos) || (request.retain === true && !line.retain);
  }
  return !line.qos.some((allowed) => allowed <= qos);
}

// deno-lint-ignore no-control-regex -- NUL is unsafe in a topic level
const UNSAFE_IDENTITY = /[+#/\u0000]|^\$/;

/**
 * Why the peer and the evaluator cannot be expected to agree on `request`, or null when they
 * can: a subscription is compared only on a plain topic (mosquitto checks the topics it
 * delivers; containment of wildcard filters is ours alone), and no rule that the acl_file
 * only approximates, or whose QoS or retain limit applies, may touch the request.
 */
export function exclusion(acl: PeerAcl, request: AclRequest): string | null {
  const topic = request.topic;
  if (request.action === "sub" && topic.startsWith("$share/")) return "shared subscription";
  if (/[+#]/.test(topic)) return "subscription filter with wildcards (containment)";
  if (topicError(topic, "name") !== null) return "invalid topic";
  const { username, client_id: id } = request.client;
  const candidates = levelPrefixes(topic).flatMap((prefix) => acl.byPrefix.get(prefix) ?? []);
  for (const line of candidates) {
    const peerTopic = substituted(line, request);
    const peerMatch = peerTopic !== null &&
      (line.user === null || line.user === username) &&
      (line.access === "deny" ||
        line.access.includes(request.action === "pub" ? "write" : "read")) &&
      safeFilter(peerTopic) && filterMatchesTopic(peerTopic, topic);
    const ruleMayMatch = selectorSelects(line.selector, username) &&
      line.actions.includes(request.action) && filterMatchesTopic(line.ruleShape, topic);
    if (!peerMatch && !ruleMayMatch) continue;
    if (line.approximation !== null) return line.approximation;
    if (restrictionBites(line, request)) return "QoS or retain limit";
    if (line.topic.includes("%") && UNSAFE_IDENTITY.test(`${username}\n${id ?? ""}`)) {
      return "username or client id that mosquitto substitutes differently";
    }
  }
  return null;
}

/** Whether a substituted pattern is still one topic filter (a `/` in a value adds levels). */
function safeFilter(filter: string): boolean {
  const levels = filter.split("/");
  return levels.every((level, i) =>
    (level !== "#" || i === levels.length - 1) && (level.length <= 1 || !/[+#]/.test(level))
  );
}

/**
 * Builds the peer with gcc into a temporary directory and returns its path. Throws with the
 * install command when libmosquitto-dev or gcc is missing.
 */
export async function buildPeer(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mosquitto_peer_" });
  const source = new URL("./mosquitto_peer.c", import.meta.url).pathname;
  const binary = `${dir}/mosquitto_peer`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("gcc", {
      args: ["-O2", "-std=c11", "-Wall", "-Wextra", "-o", binary, source, "-lmosquitto"],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(`cannot run gcc (apt-get install -y gcc libmosquitto-dev): ${error}`);
  }
  if (!output.success) {
    throw new Error(
      "building the mosquitto peer failed (it needs gcc and Debian's libmosquitto-dev: " +
        `apt-get install -y libmosquitto-dev):\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return binary;
}

/** A running peer holding one acl_file and one list of requests. */
export class PeerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  readonly #files: string[];

  private constructor(child: Deno.ChildProcess, files: string[]) {
    this.#child = child;
    this.#files = files;
    this.#writer = child.stdin.getWriter();
    this.#lines = readLines(child.stdout)[Symbol.asyncIterator]();
  }

  /**
   * Starts `binary` on the acl_file and requests given as text; `allocate` false uses one
   * reused buffer for substituted patterns instead of one allocation per pattern.
   */
  static async start(
    binary: string,
    acl: string,
    requests: string,
    allocate: boolean,
  ): Promise<PeerProcess> {
    const aclPath = await Deno.makeTempFile({ prefix: "peer_acl_" });
    const requestsPath = await Deno.makeTempFile({ prefix: "peer_requests_" });
    await Deno.writeTextFile(aclPath, acl);
    await Deno.writeTextFile(requestsPath, requests);
    const child = new Deno.Command(binary, {
      args: [...(allocate ? [] : ["--no-alloc"]), aclPath, requestsPath],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    return new PeerProcess(child, [aclPath, requestsPath]);
  }

  async #ask(command: string): Promise<string> {
    await this.#writer.write(new TextEncoder().encode(`${command}\n`));
    const next = await this.#lines.next();
    if (next.done) throw new Error(`the mosquitto peer exited before answering ${command}`);
    return next.value;
  }

  /** The peer's decision on every request, in order (true: allowed). */
  async decisions(): Promise<boolean[]> {
    return [...await this.#ask("check")].map((flag) => flag === "1");
  }

  /** Decisions per second over a round of at least `ms` milliseconds. */
  async round(ms: number): Promise<number> {
    const [decisions, nanoseconds] = (await this.#ask(`round ${Math.round(ms)}`)).split(" ")
      .map(Number);
    return decisions / (nanoseconds / 1e9);
  }

  /** Stops the peer and removes its files. */
  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
    for (const file of this.#files) await Deno.remove(file);
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
}

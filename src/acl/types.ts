/**
 * The shapes of the ACL policy document, the request and the decision. These are the
 * contract shared by the CLI, the local platform's broker and the API.
 */

/** Policy format versions; a version gates which features validate. */
export type PolicyVersion = "2" | "2.1" | "2.2";

/** The three action spellings a rule may use. */
export type RuleAction = "sub" | "pub" | "pub+sub";

/** What a request asks to do. */
export type RequestAction = "pub" | "sub";

/** Allow or deny. */
export type Effect = "allow" | "deny";

/** MQTT quality-of-service levels. */
export type QoS = 0 | 1 | 2;

/** One rule of `global` or `rules`. */
export interface Rule {
  topic: string;
  action: RuleAction;
  binding?: string;
  user?: string;
  effect?: Effect;
  qos?: QoS[];
  retain?: boolean;
  require_grant?: boolean;
  description?: string;
}

/** A service identity allowed to publish to some filters. */
export interface Publisher {
  identity: string;
  topics: string[];
  qos?: QoS[];
  retain?: boolean;
  description?: string;
}

/** The identity a request is made with. */
export interface ClientIdentity {
  /** MQTT username without the `@<org_short_id>` suffix. */
  username: string;
  client_id?: string;
  org_id?: string;
  org_short_id?: string;
  claims?: Record<string, string>;
}

/** An expected decision, run by `acl test` and before every update. */
export interface PolicyTest {
  name: string;
  client: ClientIdentity;
  action: RequestAction;
  topic: string;
  qos?: QoS;
  retain?: boolean;
  expect: Effect;
  description?: string;
}

/** The policy document. */
export interface Policy {
  $schema?: string;
  description?: string;
  version: PolicyVersion;
  default: Effect;
  global?: Rule[];
  rules?: Rule[];
  publishers?: Publisher[];
  tests?: PolicyTest[];
}

/** A hypothetical or real PUBLISH / SUBSCRIBE to decide. */
export interface AclRequest {
  client: ClientIdentity;
  action: RequestAction;
  topic: string;
  /** Requested QoS; 0 when absent. */
  qos?: QoS;
  /** Whether a publish is retained; false when absent. */
  retain?: boolean;
}

/** Where a rule lives in the document. */
export type Section = "global" | "rules" | "publishers";

/** Why a decision was made. */
export type DecisionReason = "rule" | "deny_rule" | "default" | "invalid_topic";

/** The rule that decided. */
export interface MatchedRule {
  section: Section;
  index: number;
  /** JSON pointer of the rule (for publishers, of the topic inside it). */
  pointer: string;
  /** 1-based line of the rule in its file, when the policy came from one. */
  line: number | null;
  /** The rule's topic as written. */
  topic: string;
  /** The rule's topic with placeholders resolved for this request. */
  resolved_topic: string;
}

/** One rule's verdict on a request. */
export interface TraceEntry {
  pointer: string;
  applies: boolean;
  effect: Effect;
  why: string;
}

/** What the evaluator returns (and `acl simulate --json` prints). */
export interface Decision {
  decision: Effect;
  reason: DecisionReason;
  matched: MatchedRule | null;
  /** QoS granted to a subscription, or the QoS of an allowed publish; null on deny. */
  granted_qos: QoS | null;
  /** For `invalid_topic`: what is wrong with the topic. */
  detail?: string;
  /** The policy's default, echoed so a reader can tell a default decision. */
  default: Effect;
  /** Every rule's verdict, in document order; only when asked for. */
  trace?: TraceEntry[];
}

/** Severity of a validation finding. */
export type Severity = "error" | "warning";

/** One validation result with a stable code and its place in the file. */
export interface Finding {
  severity: Severity;
  /** Stable identifier, listed in docs/policy-reference.md. */
  code: string;
  /** Human path in the documented form, e.g. `rules[1]`. */
  path: string;
  /** JSON pointer of the value the finding is about. */
  pointer: string;
  message: string;
  line?: number;
  column?: number;
  /** `local` for the offline checks, `server` for the organization-aware ones. */
  stage?: "local" | "server";
}

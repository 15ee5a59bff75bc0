/**
 * The CloudSignal ACL engine: one dependency-free module shared by the CLI, the broker and
 * the API. Validate a policy, compile it once, then evaluate requests against it.
 */

export type * from "./types.ts";
export {
  type CompiledPolicy,
  type CompiledRule,
  type CompileOptions,
  compilePolicy,
  PolicyCompileError,
} from "./compile.ts";
export { evaluate, type EvaluateOptions } from "./evaluate.ts";
export { describeDecision } from "./explain.ts";
export {
  filterContains,
  filterMatchesTopic,
  MAX_TOPIC_BYTES,
  parseSharedSubscription,
  topicError,
  type TopicKind,
  utf8Length,
} from "./topic.ts";
export { unsafeCharacter } from "./match.ts";
export {
  BROKER_CONTROL_TOPIC,
  levelLimitError,
  MAX_TOPIC_LEVELS,
  MQTT31_MAX_CLIENT_ID_LENGTH,
  type PlatformNote,
  platformNotes,
  ruleLevelLimitError,
  topicLevelCount,
} from "./platform_limits.ts";
export { type ClaimUse, policyUses, type SelectorUse } from "./policy_uses.ts";
export { selectorSelects } from "./selector.ts";
export { CLAIM_NAME, compileTemplate, type PlaceholderUse } from "./template.ts";
export {
  type PolicyCounts,
  validatePolicyDocument,
  validatePolicyText,
  type ValidationResult,
} from "./validate.ts";
export { formatFinding, hasErrors, humanPath, sortFindings } from "./findings.ts";
export {
  DEFAULT_MAX_DEPTH,
  type JsonLocation,
  JsonSyntaxError,
  locate,
  parseJsonWithPositions,
  type PositionNode,
} from "./json_positions.ts";
export {
  runPolicyTests,
  type TestOutcome,
  type TestRunResult,
  type UnexercisedRule,
} from "./policy_tests.ts";

/** The `acl simulate` command both start-up benchmarks time: an allowed agent-card request. */
export const SIMULATE_ARGS = [
  "acl",
  "simulate",
  "--policy",
  new URL("../../examples/agent-card.json", import.meta.url).pathname,
  "--username",
  "scout",
  "--claim",
  "agent_id=scout",
  "--action",
  "pub",
  "--topic",
  "agents/scout/card",
];

/**
 * An editor for the `acl edit` tests: each time it is opened it records the file it was
 * given and applies the next entry of `EDIT_PLAN` (a JSON list; an entry is actions joined
 * by `,`), as a person would before saving.
 *
 * Actions: `add:<topic>` adds a rule; `break` adds a rule with a misspelled field; `fix`
 * spells it right; `base:<n>` sets `$revision`; `same` saves nothing new; `empty` empties the
 * file; `fail` exits with status 3.
 */

const [path] = Deno.args;
const log = Deno.env.get("EDIT_LOG")!;
const plan = JSON.parse(Deno.env.get("EDIT_PLAN")!) as string[];
const seen = await Deno.readTextFile(log).catch(() => "");
const round = seen === "" ? 0 : seen.split("\u0000").length - 1;
const text = await Deno.readTextFile(path);
await Deno.writeTextFile(log, `${text}\u0000`, { append: true });

const lines = text.split("\n");
const header = lines.filter((line) => line.startsWith("#")).join("\n");
const policy = JSON.parse(lines.filter((line) => !line.startsWith("#")).join("\n"));
let changed = false;
for (const action of (plan[round] ?? "same").split(",")) {
  if (action === "fail") Deno.exit(3);
  if (action === "empty") {
    await Deno.writeTextFile(path, "");
    Deno.exit(0);
  }
  changed = action !== "same";
  if (action === "break") policy.rules.push({ topic: "broken/#", acton: "sub" });
  if (action === "fix") {
    for (const rule of policy.rules) {
      if ("acton" in rule) {
        rule.action = rule.acton;
        delete rule.acton;
      }
    }
  }
  if (action.startsWith("add:")) policy.rules.push({ topic: action.slice(4), action: "sub" });
  if (action.startsWith("base:")) policy.$revision = Number(action.slice(5));
}
if (changed) await Deno.writeTextFile(path, `${header}\n${JSON.stringify(policy, null, 2)}\n`);

/**
 * Start-up of each way the CLI runs, in one hyperfine run against an empty `deno run`:
 * `--version` and `acl simulate --policy …` from the source (`deno run -A main.ts`), from the
 * single-file bundle (`deno run -A --no-config cloudsignal.mjs`) and from the npm package
 * (`cloudsignal`, installed with `npm install -g --prefix`; Node.js starts Deno).
 * Builds into build/bench/startup/. Needs hyperfine and npm.
 *
 * Usage: deno run -A bench/startup.ts [--runs 30] [--json]
 */

import { parseArgs } from "node:util";
import { buildBundle } from "../scripts/build_bundle.ts";
import { buildNpmPackage } from "../scripts/build_npm.ts";
import { SIMULATE_ARGS } from "./support/simulate_command.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const WORK = `${ROOT}build/bench/startup`;

async function run(command: string, args: string[], cwd = WORK): Promise<string> {
  const result = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(`${command} ${args.join(" ")} failed:\n${decoder.decode(result.stderr)}`);
  }
  return decoder.decode(result.stdout);
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

interface Measured {
  command: string;
  mean: number;
  stddev: number;
  median: number;
  min: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "30" }, json: { type: "boolean" } },
  });
  await Deno.remove(WORK, { recursive: true }).catch(() => {});
  await Deno.mkdir(WORK, { recursive: true });
  const bundle = await buildBundle({ output: `${WORK}/bundle/cloudsignal.mjs`, commit: "bench" });
  const pkg = await buildNpmPackage({ outDir: `${WORK}/npm`, commit: "bench" });
  const packed = JSON.parse(await run("npm", ["pack", pkg, "--pack-destination", WORK, "--json"]));
  await run("npm", [
    "install",
    "--global",
    "--prefix",
    `${WORK}/prefix`,
    "--no-audit",
    "--no-fund",
    `${WORK}/${packed[0].filename}`,
  ]);
  await Deno.writeTextFile(`${WORK}/empty.mjs`, "");

  const deno = Deno.execPath();
  const npmBin = `${WORK}/prefix/bin/cloudsignal`;
  const variants: [string, string[]][] = [
    ["empty deno run", [deno, "run", "-A", "--no-config", `${WORK}/empty.mjs`]],
    ["source --version", [deno, "run", "-A", `${ROOT}main.ts`, "--version"]],
    ["bundle --version", [deno, "run", "-A", "--no-config", bundle, "--version"]],
    ["npm --version", [npmBin, "--version"]],
    ["source simulate", [deno, "run", "-A", `${ROOT}main.ts`, ...SIMULATE_ARGS]],
    ["bundle simulate", [deno, "run", "-A", "--no-config", bundle, ...SIMULATE_ARGS]],
    ["npm simulate", [npmBin, ...SIMULATE_ARGS]],
  ];
  // Every variant works before it is timed.
  for (const [, [command, ...args]] of variants) await run(command, args, ROOT);

  const exported = `${WORK}/hyperfine.json`;
  const args = ["-N", "--warmup", "5", "--runs", values.runs!, "--export-json", exported];
  for (const [name, words] of variants) {
    args.push("--command-name", name, words.map(quote).join(" "));
  }
  const hyperfine = new Deno.Command("hyperfine", {
    args,
    cwd: ROOT,
    stdout: values.json ? "null" : "inherit",
    stderr: "inherit",
  });
  if (!(await hyperfine.output()).success) throw new Error("hyperfine failed");
  const results = (JSON.parse(await Deno.readTextFile(exported)) as { results: Measured[] })
    .results;
  // Ratios of medians: other processes on the machine skew means more than medians.
  const baseline = results[0].median;
  const rows = results.map((r) => ({
    variant: r.command,
    mean_ms: +(r.mean * 1000).toFixed(1),
    stddev_ms: +(r.stddev * 1000).toFixed(1),
    median_ms: +(r.median * 1000).toFixed(1),
    min_ms: +(r.min * 1000).toFixed(1),
    median_vs_empty_deno_run: +(r.median / baseline).toFixed(2),
  }));
  if (values.json) {
    console.log(JSON.stringify({ deno: Deno.version.deno, runs: Number(values.runs), rows }));
    return;
  }
  console.log(`\nDeno ${Deno.version.deno}, ${values.runs} runs each (hyperfine -N, 5 warm-ups)`);
  console.log("| variant | median ms | mean ms | ± ms | min ms | median × empty deno run |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    console.log(
      `| ${row.variant} | ${row.median_ms} | ${row.mean_ms} | ${row.stddev_ms} | ${row.min_ms} | ${row.median_vs_empty_deno_run} |`,
    );
  }
}

await main();

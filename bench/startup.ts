/**
 * Start-up of every way the CLI runs, as ratios to an empty `deno run` measured in the same
 * rounds. Each round runs every variant once, in an order that shifts by one each round, so
 * the machine's drift and noise fall on all of them alike; the tables give medians, and the
 * ratio is the median of each round's ratio to that round's empty run.
 *
 * Warm start-up (`acl simulate --policy examples/agent-card.json …`, and `--version`):
 * - the source (`deno run -A main.ts`), the lazy bundle (`cloudsignal.js` and chunks) and the
 *   single-file bundle (`deno run -A --no-config …`);
 * - the npm channel, installed from a local registry with npm: the native binary (the
 *   install script makes `cloudsignal` that binary), the Node.js launcher in front of it
 *   (install scripts not run, or Windows), and the fallback where the package has no binary
 *   for the platform (a shell script running Deno on the lazy bundle). `deno compile` cannot
 *   run here, so the native binary is a stand-in that execs Deno on the lazy bundle, unless
 *   `--native <binary>` names a real one (the release workflow passes the Linux binary,
 *   which then also gets rows of its own).
 *
 * First runs (`--first-runs n`, 0 to skip): in a fresh copy of the repository with an empty
 * DENO_DIR, the README's first command and `deno task cli` with the same arguments, and the
 * URL channel (the repository served on 127.0.0.1) with and without lazy dynamic imports; wall
 * time, and the npm packages and bytes that landed in DENO_DIR.
 *
 * Builds into build/bench/startup/. Needs npm and git.
 *
 * Usage: deno run -A bench/startup.ts [--runs 30] [--first-runs 3] [--native <binary>] [--json]
 */

import { parseArgs } from "node:util";
import { buildBundle, buildLazyBundle } from "../scripts/build_bundle.ts";
import { buildNpmPackages, PACKAGE_NAME } from "../scripts/build_npm.ts";
import { targetOf } from "../scripts/compile.ts";
import { publishLocally } from "../tests/e2e/distribution_registry.ts";
import {
  copyRepository,
  hostTarget,
  npmPackagesIn,
  readmeFirstCommand,
  serveRepository,
  URL_CHANNEL_FLAGS,
} from "../tests/e2e/distribution_support.ts";
import { SIMULATE_ARGS } from "./support/simulate_command.ts";

/** The options of the benchmark (the release workflow's command line is checked against them). */
export const OPTIONS = {
  runs: { type: "string" },
  "first-runs": { type: "string" },
  native: { type: "string" },
  json: { type: "boolean" },
} as const;

const ROOT = new URL("../", import.meta.url).pathname;
const WORK = `${ROOT}build/bench/startup`;
const DENO = Deno.execPath();

/** One way of starting the CLI: a command line. */
interface Variant {
  name: string;
  command: string[];
  env?: Record<string, string>;
  cwd?: string;
}

async function spawnMs(variant: Variant): Promise<number> {
  const [command, ...args] = variant.command;
  const start = performance.now();
  const result = await new Deno.Command(command, {
    args,
    cwd: variant.cwd ?? ROOT,
    env: variant.env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (!result.success) {
    throw new Error(`${variant.name} failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs every variant once per round, rotating the order; returns each one's times. */
async function interleaved(variants: Variant[], rounds: number): Promise<number[][]> {
  const times = variants.map(() => [] as number[]);
  for (let round = -3; round < rounds; round++) {
    for (let step = 0; step < variants.length; step++) {
      const index = (step + Math.max(round, 0)) % variants.length;
      const ms = await spawnMs(variants[index]);
      if (round >= 0) times[index].push(ms);
    }
  }
  return times;
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** Bytes of the files under `dir`. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await sizeOf(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

/** The stand-in for a `deno compile`d binary: execs Deno on a lazy bundle. */
async function standIn(lazyEntry: string): Promise<string> {
  const path = `${WORK}/stand-in`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nexec '${DENO}' run -A --no-config --no-lock '${lazyEntry}' "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/** Installs `@cloudsignal/cli` from a local registry into `prefix`; returns the command. */
async function npmInstall(
  name: string,
  binary: string | undefined,
  prefix: string,
  extra: string[],
): Promise<{ command: string; close: () => Promise<void> }> {
  const dir = `${WORK}/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  const built = await buildNpmPackages({
    outDir: `${dir}/packages`,
    commit: "bench",
    binaries: binary ? [{ target: targetOf(hostTarget()), path: binary }] : [],
  });
  const published = await publishLocally([...built.platforms, built.main], dir);
  const installed = await published.npm(
    ["install", "--global", "--prefix", prefix, ...extra, PACKAGE_NAME],
    dir,
  );
  if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stderr}`);
  return { command: `${prefix}/bin/cloudsignal`, close: () => published.registry.close() };
}

interface Row {
  variant: string;
  median_ms: number;
  min_ms: number;
  ratio_to_empty: number;
}

/** Median over rounds of `times[i] / times[base]` (paired by round). */
function pairedRatio(times: number[][], index: number, base: number): number {
  return median(times[index].map((ms, round) => ms / times[base][round]));
}

interface FirstRun {
  variant: string;
  median_ms: number;
  npm_packages: number;
  deno_dir_mb: number;
}

/** First runs with an empty DENO_DIR, `rounds` of each, interleaved. */
async function firstRuns(rounds: number): Promise<FirstRun[]> {
  const readme = await readmeFirstCommand();
  const served = serveRepository();
  const policy = `${ROOT}examples/agent-card.json`;
  const withoutLazyImports = URL_CHANNEL_FLAGS.filter((flag) => !flag.includes("lazy"));
  const kinds: { name: string; task?: boolean; flags?: string[] }[] = [
    { name: "fresh copy, README's first command", task: false },
    { name: "fresh copy, `deno task cli` with the same arguments", task: true },
    { name: `URL channel (\`deno run ${URL_CHANNEL_FLAGS.join(" ")}\`)`, flags: URL_CHANNEL_FLAGS },
    {
      name: `URL channel without lazy dynamic imports (\`deno run ${
        withoutLazyImports.join(" ")
      }\`)`,
      flags: withoutLazyImports,
    },
  ];
  const results = kinds.map(() => ({ ms: [] as number[], packages: 0, bytes: 0 }));
  try {
    for (let round = 0; round < rounds; round++) {
      for (let step = 0; step < kinds.length; step++) {
        const index = (step + round) % kinds.length;
        const kind = kinds[index];
        const dir = await Deno.makeTempDir({ dir: WORK, prefix: "first-run-" });
        const denoDir = `${dir}/deno-dir`;
        let variant: Variant;
        if (kind.flags) {
          variant = {
            name: kind.name,
            command: [
              DENO,
              "run",
              ...kind.flags,
              `${served.url}/main.ts`,
              ...SIMULATE_ARGS.slice(0, 3),
              policy,
              ...SIMULATE_ARGS.slice(4),
            ],
            cwd: dir,
          };
        } else {
          await copyRepository(`${dir}/clone`);
          const args = kind.task
            ? ["task", "cli", ...readme.slice(readme.indexOf("main.ts") + 1)]
            : readme;
          variant = { name: kind.name, command: [DENO, ...args], cwd: `${dir}/clone` };
        }
        variant.env = { DENO_DIR: denoDir, CLOUDSIGNAL_HOME: `${dir}/home` };
        results[index].ms.push(await spawnMs(variant));
        results[index].packages = (await npmPackagesIn(denoDir)).length;
        results[index].bytes = await sizeOf(denoDir);
        await Deno.remove(dir, { recursive: true });
      }
    }
  } finally {
    await served.server.shutdown();
  }
  return kinds.map((kind, i) => ({
    variant: kind.name,
    median_ms: Math.round(median(results[i].ms)),
    npm_packages: results[i].packages,
    deno_dir_mb: +(results[i].bytes / 1e6).toFixed(1),
  }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: OPTIONS, strict: true });
  const rounds = Number(values.runs ?? "30");
  const firstRounds = Number(values["first-runs"] ?? "3");
  await Deno.remove(WORK, { recursive: true }).catch(() => {});
  await Deno.mkdir(WORK, { recursive: true });
  const log = (line: string) => values.json || console.error(line);

  log("building the bundles and npm packages…");
  const single = await buildBundle({ output: `${WORK}/single/cloudsignal.mjs`, commit: "bench" });
  const lazy = await buildLazyBundle({ outDir: `${WORK}/lazy`, commit: "bench" });
  const native = values.native ? await Deno.realPath(values.native) : await standIn(lazy);
  const nativeName = values.native ? "native binary" : "stand-in binary";
  const installs = [
    await npmInstall("npm-native", native, `${WORK}/prefix-native`, []),
    await npmInstall("npm-node", native, `${WORK}/prefix-node`, ["--ignore-scripts"]),
    await npmInstall("npm-fallback", undefined, `${WORK}/prefix-fallback`, []),
  ];
  for (const install of installs) await install.close();
  await Deno.writeTextFile(`${WORK}/empty.mjs`, "");

  const simulate = SIMULATE_ARGS;
  const source = [DENO, "run", "-A", `${ROOT}main.ts`];
  const lazyRun = [DENO, "run", "-A", "--no-config", lazy];
  const singleRun = [DENO, "run", "-A", "--no-config", single];
  const variants: Variant[] = [
    {
      name: "empty `deno run` (baseline)",
      command: [DENO, "run", "-A", "--no-config", `${WORK}/empty.mjs`],
    },
    { name: "source `--version`", command: [...source, "--version"] },
    { name: "source `acl simulate`", command: [...source, ...simulate] },
    { name: "lazy bundle `--version`", command: [...lazyRun, "--version"] },
    { name: "lazy bundle `acl simulate`", command: [...lazyRun, ...simulate] },
    { name: "single-file bundle `--version`", command: [...singleRun, "--version"] },
    { name: "single-file bundle `acl simulate`", command: [...singleRun, ...simulate] },
    { name: `npm, ${nativeName} \`acl simulate\``, command: [installs[0].command, ...simulate] },
    {
      name: `npm, Node.js launcher → ${nativeName} \`acl simulate\``,
      command: [installs[1].command, ...simulate],
    },
    {
      name: "npm, no binary: Deno + lazy bundle `acl simulate`",
      command: [installs[2].command, ...simulate],
    },
  ];
  if (values.native) {
    variants.push(
      { name: "native binary `--version`", command: [native, "--version"] },
      { name: "native binary `acl simulate`", command: [native, ...simulate] },
    );
  }

  const loadBefore = loadAverage();
  log(`timing ${variants.length} variants, ${rounds} interleaved rounds…`);
  const times = await interleaved(variants, rounds);
  const loadAfter = loadAverage();
  const rows: Row[] = variants.map((variant, i) => ({
    variant: variant.name,
    median_ms: +median(times[i]).toFixed(1),
    min_ms: +Math.min(...times[i]).toFixed(1),
    ratio_to_empty: +pairedRatio(times, i, 0).toFixed(2),
  }));
  const at = (name: string) => variants.findIndex((v) => v.name === name);
  const goals = {
    lazy_bundle_vs_source_simulate: +pairedRatio(
      times,
      at("lazy bundle `acl simulate`"),
      at("source `acl simulate`"),
    ).toFixed(2),
    npm_fallback_vs_empty: rows[at("npm, no binary: Deno + lazy bundle `acl simulate`")]
      .ratio_to_empty,
  };
  if (firstRounds > 0) log(`first runs with an empty DENO_DIR, ${firstRounds} rounds…`);
  const first = firstRounds > 0 ? await firstRuns(firstRounds) : [];
  const machine = {
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    load_before: loadBefore,
    load_after: loadAfter,
    rounds,
  };

  if (values.json) {
    console.log(JSON.stringify({ machine, rows, goals, first_runs: first }));
    return;
  }
  console.log(
    `\nDeno ${machine.deno}, ${machine.cpus} CPUs, load average ${loadBefore} before and ` +
      `${loadAfter} after; ${rounds} interleaved rounds\n`,
  );
  console.log("| variant | median ms | min ms | × empty `deno run` (median of rounds) |");
  console.log("|---|---:|---:|---:|");
  for (const row of rows) {
    console.log(`| ${row.variant} | ${row.median_ms} | ${row.min_ms} | ${row.ratio_to_empty} |`);
  }
  console.log(
    `\nlazy bundle ÷ source, \`acl simulate\` (median of rounds): ` +
      `${goals.lazy_bundle_vs_source_simulate} (goal ≤ 1.2)`,
  );
  console.log(
    `npm without a binary ÷ empty \`deno run\`: ${goals.npm_fallback_vs_empty} (goal ≤ 3)`,
  );
  if (first.length > 0) {
    console.log(`\nFirst runs, empty DENO_DIR, median of ${firstRounds}:\n`);
    console.log("| first run | median ms | npm packages fetched | DENO_DIR MB |");
    console.log("|---|---:|---:|---:|");
    for (const row of first) {
      console.log(
        `| ${row.variant} | ${row.median_ms} | ${row.npm_packages} | ${row.deno_dir_mb} |`,
      );
    }
  }
}

if (import.meta.main) await main();

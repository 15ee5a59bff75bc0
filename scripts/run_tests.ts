/**
 * Runs the whole test suite and ends with one line CI reads: `N passed, N failed`.
 * Checks first that the programs the end-to-end tests drive are installed (installing the
 * Debian packages when run as root with apt-get, as on CI). A watchdog stops a run that
 * hangs: when no test has finished for `--stall-timeout` seconds, or the run passes
 * `--deadline` seconds, it kills `deno test` with everything it started, names the tests
 * still running, and counts them as failed. Other arguments go to `deno test`.
 *
 * Usage: deno run -A scripts/run_tests.ts [--stall-timeout=S] [--deadline=S] [deno test args]
 */

import { type TestOutput, TestOutputReader } from "./test_output.ts";

/** What the end-to-end tests run: a program on PATH, or a file a package installs. */
const REQUIRED: { program: string; file?: string; pkg: string; why: string }[] = [
  { program: "chromium", pkg: "chromium", why: "browser login tests" },
  { program: "mosquitto_pub", pkg: "mosquitto-clients", why: "MQTT client tests" },
  { program: "mosquitto_sub", pkg: "mosquitto-clients", why: "MQTT client tests" },
  { program: "gcc", pkg: "gcc", why: "the mosquitto peer test" },
  {
    program: "libmosquitto",
    file: "/usr/include/mosquitto.h",
    pkg: "libmosquitto-dev",
    why: "the mosquitto peer test",
  },
];

/** No single test takes a minute here; five without any result is a hang. */
const DEFAULT_STALL_SECONDS = 300;
/** The suite takes one to two minutes; CI's whole run must stay under fifteen. */
const DEFAULT_DEADLINE_SECONDS = 720;

async function found(program: string): Promise<boolean> {
  const result = await new Deno.Command("sh", {
    args: ["-c", `command -v ${program}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return result.success;
}

async function run(command: string, args: string[]): Promise<boolean> {
  const result = await new Deno.Command(command, { args, stdout: "inherit", stderr: "inherit" })
    .output();
  return result.success;
}

async function ensurePrograms(): Promise<void> {
  const missing = [];
  for (const need of REQUIRED) {
    const present = need.file === undefined
      ? await found(need.program)
      : await Deno.stat(need.file).then(() => true, () => false);
    if (!present) missing.push(need);
  }
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((need) => need.pkg))];
  const isRoot = Deno.uid?.() === 0;
  if (isRoot && await found("apt-get")) {
    console.error(`Installing ${packages.join(", ")} for the end-to-end tests…`);
    if (
      await run("apt-get", ["update", "-qq"]) &&
      await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages])
    ) return;
  }
  console.error(
    `Missing ${missing.map((need) => `${need.program} (${need.why})`).join(", ")}.\n` +
      `Install them, e.g. sudo apt-get install ${packages.join(" ")}`,
  );
  Deno.exit(1);
}

interface Options {
  stallSeconds: number;
  deadlineSeconds: number;
  denoArgs: string[];
}

function parseOptions(args: string[]): Options {
  const options = {
    stallSeconds: DEFAULT_STALL_SECONDS,
    deadlineSeconds: DEFAULT_DEADLINE_SECONDS,
    denoArgs: [] as string[],
  };
  for (const arg of args) {
    const match = arg.match(/^--(stall-timeout|deadline)=(.*)$/);
    if (!match) {
      options.denoArgs.push(arg);
      continue;
    }
    const seconds = Number(match[2]);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      console.error(
        `run_tests: --${match[1]} expects a number of seconds above 0, got "${match[2]}"`,
      );
      Deno.exit(2);
    }
    if (match[1] === "deadline") options.deadlineSeconds = seconds;
    else options.stallSeconds = seconds;
  }
  return options;
}

const OWN_SESSION = Deno.build.os !== "windows";

/** `deno test` in a session of its own (on Unix), so that a hang can be killed with its children. */
function spawnDenoTest(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--parallel", ...args],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
    detached: OWN_SESSION,
  }).spawn();
}

function killAll(child: Deno.ChildProcess): void {
  try {
    Deno.kill(OWN_SESSION ? -child.pid : child.pid, "SIGKILL");
  } catch { /* already gone */ }
}

async function writeAll(chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.length;) done += await Deno.stdout.write(chunk.subarray(done));
}

function hangReport(why: string, output: TestOutput): string {
  const running = output.running.length > 0
    ? `Still running: ${output.running.map((name) => `"${name}"`).join(", ")}.`
    : "deno test had not reported which test was running.";
  return `run_tests: ${why}; stopped deno test and the processes it started. ${running}`;
}

async function main(): Promise<number> {
  const options = parseOptions(Deno.args);
  await ensurePrograms();
  const child = spawnDenoTest(options.denoArgs);
  const reader = new TestOutputReader();
  const output = reader.output;
  let finished = 0;
  let lastResultAt = Date.now();
  let hang: string | undefined;
  const stop = (why: string) => {
    hang ??= why;
    clearInterval(watchdog);
    killAll(child);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(`interrupted by ${signal}`));
  }
  const started = Date.now();
  const watchdog = setInterval(() => {
    const now = Date.now();
    if (now - lastResultAt > options.stallSeconds * 1000) {
      stop(`no test finished in the last ${options.stallSeconds} s`);
    } else if (now - started > options.deadlineSeconds * 1000) {
      stop(`the tests ran past the ${options.deadlineSeconds} s deadline`);
    }
  }, 250);

  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await writeAll(chunk);
    reader.add(decoder.decode(chunk, { stream: true }));
    if (output.passed + output.failed > finished) {
      finished = output.passed + output.failed;
      lastResultAt = Date.now();
    }
  }
  const status = await child.status;
  clearInterval(watchdog);

  // A watchdog that fired after deno printed its summary changed nothing.
  if (hang && !output.summary) {
    console.error(hangReport(hang, output));
    const stuck = Math.max(1, output.running.length);
    console.log(`${output.passed} passed, ${output.failed + stuck} failed`);
    return 1;
  }
  if (!output.summary) {
    console.log("0 passed, 1 failed");
    console.error("deno test ended without its summary line (exit code " + status.code + ")");
    return status.code === 0 ? 1 : status.code;
  }
  console.log(`${output.summary.passed} passed, ${output.summary.failed} failed`);
  return status.code;
}

Deno.exit(await main());

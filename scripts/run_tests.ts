/**
 * Runs the whole test suite and ends with one line CI reads: `N passed, N failed`.
 * Checks first that the programs the end-to-end tests drive are installed (installing the
 * Debian packages when run as root with apt-get, as on CI). Extra arguments go to `deno test`.
 *
 * Usage: deno run -A scripts/run_tests.ts [deno test arguments]
 */

const REQUIRED = [
  { program: "chromium", pkg: "chromium", why: "browser login tests" },
  { program: "mosquitto_pub", pkg: "mosquitto-clients", why: "MQTT client tests" },
  { program: "mosquitto_sub", pkg: "mosquitto-clients", why: "MQTT client tests" },
];

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
  for (const need of REQUIRED) if (!await found(need.program)) missing.push(need);
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

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

async function main(): Promise<number> {
  await ensurePrograms();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--parallel", ...Deno.args],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
  }
  const status = await child.status;
  const summary = [
    ...tail.replace(ANSI, "").matchAll(
      /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/gm,
    ),
  ].at(-1);
  if (!summary) {
    console.log("0 passed, 1 failed");
    console.error("deno test ended without its summary line (exit code " + status.code + ")");
    return status.code === 0 ? 1 : status.code;
  }
  console.log(`${summary[1]} passed, ${summary[2]} failed`);
  return status.code;
}

Deno.exit(await main());

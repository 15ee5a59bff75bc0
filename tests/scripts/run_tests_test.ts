/**
 * The test wrapper CI runs: its `N passed, N failed` line from deno's real counts, and its
 * watchdog, which stops a hanging run with everything it started.
 */

import assert from "node:assert/strict";
import { parseTestOutput, TestOutputReader } from "../../scripts/test_output.ts";
import { runProcess } from "../support/process.ts";

const WRAPPER = new URL("../../scripts/run_tests.ts", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/run_tests/", import.meta.url).pathname;

async function runWrapper(args: string[], env: Record<string, string> = {}) {
  const run = await runProcess(Deno.execPath(), ["run", "-A", WRAPPER, ...args], {
    env: { ...Deno.env.toObject(), ...env },
    timeoutMs: 120_000,
  });
  return { ...run, lastLine: run.stdout.trimEnd().split("\n").at(-1) };
}

async function processGone(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 40; tries++) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

Deno.test("run_tests: the last line is deno's own counts, and a failure keeps exit 1", async () => {
  const run = await runWrapper([`${FIXTURES}passes.ts`, `${FIXTURES}fails.ts`]);
  assert.equal(run.lastLine, "2 passed, 1 failed");
  assert.equal(run.code, 1);
  const green = await runWrapper([`${FIXTURES}passes.ts`]);
  assert.equal(green.lastLine, "2 passed, 0 failed");
  assert.equal(green.code, 0);
});

Deno.test("run_tests: a hanging test is stopped with its children and counted as failed", async () => {
  const pidFile = await Deno.makeTempFile({ prefix: "cloudsignal-hang-" });
  try {
    const run = await runWrapper(
      ["--stall-timeout=8", `${FIXTURES}passes.ts`, `${FIXTURES}fails.ts`, `${FIXTURES}hangs.ts`],
      { HANG_PID_FILE: pidFile },
    );
    assert.equal(run.lastLine, "2 passed, 2 failed");
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no test finished in the last 8 s; stopped deno test/);
    const pid = Number(await Deno.readTextFile(pidFile));
    assert.ok(pid > 0, "the hanging test started its child");
    assert.ok(await processGone(pid), `the hanging test's child ${pid} was left running`);
  } finally {
    await Deno.remove(pidFile);
  }
});

Deno.test("run_tests: the deadline stops a run whose tests keep finishing too slowly", async () => {
  const pidFile = await Deno.makeTempFile({ prefix: "cloudsignal-hang-" });
  try {
    const run = await runWrapper(
      ["--deadline=8", "--stall-timeout=600", `${FIXTURES}hangs.ts`],
      { HANG_PID_FILE: pidFile },
    );
    assert.equal(run.lastLine, "0 passed, 1 failed");
    assert.equal(run.code, 1);
    assert.match(run.stderr, /the tests ran past the 8 s deadline/);
  } finally {
    await Deno.remove(pidFile);
  }
});

Deno.test("run_tests: SIGTERM stops the run with its children and keeps the results so far", async () => {
  const pidFile = await Deno.makeTempFile({ prefix: "cloudsignal-hang-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WRAPPER, `${FIXTURES}passes.ts`, `${FIXTURES}hangs.ts`],
      env: { HANG_PID_FILE: pidFile },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let text = "";
    const stdout = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) text += chunk;
    })();
    // Stop once the passing file's results and the hanging test's child are both there.
    let pid = 0;
    for (let tries = 0; tries < 600 && (pid === 0 || !/with steps \.\.\. ok/.test(text)); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pid = Number(await Deno.readTextFile(pidFile)) || 0;
    }
    assert.ok(pid > 0, "the hanging test started its child");
    assert.match(text, /with steps \.\.\. ok/);
    child.kill("SIGTERM");
    await stdout;
    const { code } = await child.status;
    assert.equal(text.trimEnd().split("\n").at(-1), "2 passed, 1 failed");
    assert.equal(code, 1);
    assert.match(await stderr, /interrupted by SIGTERM; stopped deno test/);
    assert.ok(await processGone(pid), `the hanging test's child ${pid} was left running`);
  } finally {
    await Deno.remove(pidFile);
  }
});

Deno.test("run_tests: bad watchdog options are usage errors", async () => {
  const run = await runWrapper(["--deadline=soon"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--deadline expects a number of seconds above 0, got "soon"/);
  assert.equal(run.stdout, "");
});

Deno.test("test output: results, steps, tests still running, and the summary", () => {
  const text = [
    "./tests/a_test.ts => adds ... ok (3ms)",
    "./tests/a_test.ts => with steps ... first ... ok (1ms)",
    "./tests/a_test.ts => with steps ... ok (5ms)",
    "'slow one' has been running for over (1m0s)",
    "'stuck' has been running for over (1m0s)",
    "./tests/b_test.ts => slow one ... FAILED (70s)",
    "./tests/b_test.ts => skipped ... ignored (0ms)",
    "./tests/c_test.ts => with steps ... broken ... FAILED (1ms)",
    "./tests/c_test.ts => with steps ... FAILED (due to 1 failed step) (2ms)",
    "./tests/c_test.ts => left over ... cancelled (0ms)",
    "Uncaught error from ./tests/d_test.ts FAILED",
    "",
  ].join("\n");
  assert.deepEqual(parseTestOutput(text), { passed: 2, failed: 4, running: ["stuck"] });
  const finished = parseTestOutput(`${text}FAILED | 2 passed (1 step) | 4 failed | 1 ignored\n`);
  assert.deepEqual(finished.summary, { passed: 2, failed: 4 });
  assert.equal(parseTestOutput("./tests/a_test.ts => adds ... ok (3ms)").passed, 0);
});

Deno.test("test output: lines split across chunks are read once, when complete", () => {
  const text =
    "./tests/a_test.ts => adds ... ok (3ms)\n'stuck' has been running for over (1m0s)\n" +
    "./tests/b_test.ts => fails ... FAILED (1ms)\nFAILED | 1 passed | 1 failed (1s)\n";
  const reader = new TestOutputReader();
  for (let at = 0; at < text.length; at += 7) reader.add(text.slice(at, at + 7));
  assert.deepEqual(reader.output, parseTestOutput(text));
  assert.deepEqual(reader.output, {
    passed: 1,
    failed: 1,
    running: ["stuck"],
    summary: { passed: 1, failed: 1 },
  });
});

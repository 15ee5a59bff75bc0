import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import {
  FailureThrottle,
  MAX_LOGIN_FAILURES,
  MAX_WAITING_ATTEMPTS,
} from "../../src/platform/throttle.ts";

/**
 * Runs attempts of one name at once; each checks for `ms` and succeeds or fails as told.
 * Returns the results in the order of the attempts; `finished` gets them as they finish.
 */
async function attempts(
  throttle: FailureThrottle,
  outcomes: boolean[],
  ms = 5,
  finished: string[] = [],
) {
  return await Promise.all(outcomes.map(async (right) => {
    const admission = await throttle.admit("Dev@Org");
    if (!admission.admitted) return "throttled";
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (right) throttle.succeeded("dev@org");
    else throttle.failed("dev@org");
    const result = right ? "accepted" : "refused";
    finished.push(result);
    return result;
  }));
}

Deno.test("simultaneous right passwords all go through", async () => {
  const throttle = new FailureThrottle();
  assert.deepEqual(await attempts(throttle, Array(8).fill(true)), Array(8).fill("accepted"));
});

Deno.test("simultaneous guesses get MAX_LOGIN_FAILURES checks, then the name is throttled", async () => {
  const throttle = new FailureThrottle();
  const results = await attempts(throttle, Array(20).fill(false));
  assert.equal(results.filter((r) => r === "refused").length, MAX_LOGIN_FAILURES);
  assert.equal(results.filter((r) => r === "throttled").length, 20 - MAX_LOGIN_FAILURES);
  const next = await throttle.admit("dev@org");
  assert.equal(next.admitted, false);
  assert.ok(!next.admitted && next.seconds > 0 && next.seconds <= 30);
  assert.equal((await throttle.admit("other@org")).admitted, true, "per name");
});

Deno.test("whatever the mix, failures before the throttle never exceed the limit", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), async (outcomes) => {
      const throttle = new FailureThrottle();
      const finished: string[] = [];
      await attempts(throttle, outcomes, 1, finished);
      // A success forgives the failures before it: only a run of failures counts.
      const runs = finished.join(",").split("accepted").map((run) =>
        run.split(",").filter((r) => r === "refused").length
      );
      assert.ok(Math.max(...runs) <= MAX_LOGIN_FAILURES, JSON.stringify(finished));
      if (runs[runs.length - 1] === MAX_LOGIN_FAILURES) {
        assert.equal((await throttle.admit("dev@org")).admitted, false);
      }
    }),
    { numRuns: 40 },
  );
});

Deno.test("a success forgives earlier failures; an abandoned attempt does not count", async () => {
  const throttle = new FailureThrottle();
  assert.deepEqual(await attempts(throttle, [false, false, false]), Array(3).fill("refused"));
  assert.deepEqual(await attempts(throttle, [true]), ["accepted"]);
  for (let i = 0; i < 10; i++) {
    assert.equal((await throttle.admit("dev@org")).admitted, true);
    throttle.abandoned("dev@org");
  }
  assert.deepEqual(
    await attempts(throttle, Array(MAX_LOGIN_FAILURES).fill(false)),
    Array(MAX_LOGIN_FAILURES).fill("refused"),
  );
  assert.equal((await throttle.admit("dev@org")).admitted, false);
});

Deno.test("more waiting attempts than MAX_WAITING_ATTEMPTS are refused at once", async () => {
  const throttle = new FailureThrottle();
  const running = await Promise.all(
    Array.from({ length: MAX_LOGIN_FAILURES }, () => throttle.admit("dev@org")),
  );
  assert.ok(running.every((admission) => admission.admitted));
  const waiting = Array.from({ length: MAX_WAITING_ATTEMPTS }, async () => {
    const admission = await throttle.admit("dev@org");
    if (admission.admitted) throttle.succeeded("dev@org");
    return admission;
  });
  const extra = await throttle.admit("dev@org");
  assert.deepEqual(extra, { admitted: false, seconds: 1 });
  for (let i = 0; i < MAX_LOGIN_FAILURES; i++) throttle.succeeded("dev@org");
  assert.ok((await Promise.all(waiting)).every((admission) => admission.admitted));
});

/**
 * The single-file channel: `scripts/build_bundle.ts` makes one ES module that runs alone in
 * an empty folder, with a fresh DENO_DIR, no deno.json in reach and `--cached-only` (so
 * nothing can be downloaded): --version, acl validate, acl simulate, completions, and
 * `dev` with its bundled MQTT broker (aedes) answering a real MQTT client.
 */

import assert from "node:assert/strict";
import mqtt from "npm:mqtt@5.16.0";
import { externalImports } from "../../scripts/build_bundle.ts";
import { VERSION } from "../../scripts/release_common.ts";
import { tempDir } from "../support/cli.ts";
import {
  AGENT_CARD,
  ALLOWED_OUTPUT,
  ALLOWED_REQUEST,
  assertNoConfigInReach,
  DENIED_REQUEST,
  listDir,
  run,
  runScript,
} from "./distribution_support.ts";

const COMMIT = "0ff1ce0ff1ce";

Deno.test("single file: the bundle runs alone in an empty folder with nothing to download", async (t) => {
  const dir = await tempDir("cloudsignal-bundle-");
  try {
    const buildDir = `${dir.path}/build`;
    await runScript("build_bundle.ts", [
      "--out",
      `${buildDir}/cloudsignal.mjs`,
      "--commit",
      COMMIT,
    ]);
    assert.deepEqual(await listDir(buildDir), ["cloudsignal.mjs"], "one file, no chunks");
    const code = await Deno.readTextFile(`${buildDir}/cloudsignal.mjs`);
    assert.deepEqual(externalImports(code), [], "only node: built-ins are imported");
    assert.doesNotMatch(code, /["']npm:|["']jsr:|["']https?:\/\/[^"']*\.(?:ts|js|mjs)["']/);

    const runDir = `${dir.path}/run`;
    const dataDir = `${dir.path}/data`;
    const denoDir = `${dir.path}/deno-dir`;
    await Deno.mkdir(runDir);
    await Deno.mkdir(dataDir);
    await Deno.copyFile(`${buildDir}/cloudsignal.mjs`, `${runDir}/cloudsignal.mjs`);
    await Deno.writeTextFile(`${dataDir}/agent-card.json`, AGENT_CARD);
    await assertNoConfigInReach(runDir);

    const cli = (args: string[], stdin?: string) =>
      run(Deno.execPath(), [
        "run",
        "-A",
        "--no-config",
        "--cached-only",
        "cloudsignal.mjs",
        ...args,
      ], {
        cwd: runDir,
        env: { DENO_DIR: denoDir, CLOUDSIGNAL_HOME: `${dir.path}/home` },
        stdin,
      });

    await t.step("--version names the version and the build's commit", async () => {
      const result = await cli(["--version"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `cloudsignal ${VERSION} (commit ${COMMIT}, deno ${Deno.version.deno})\n`,
      );
    });

    await t.step("acl validate reads a policy from stdin", async () => {
      const result = await cli(["acl", "validate", "-", "--local-only"], AGENT_CARD);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^✓ Policy is valid/);
    });

    await t.step("acl simulate allows, and denies with exit 3", async () => {
      const policy = ["acl", "simulate", "--policy", `${dataDir}/agent-card.json`];
      const allowed = await cli([...policy, ...ALLOWED_REQUEST]);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, ALLOWED_OUTPUT);
      const denied = await cli([...policy, ...DENIED_REQUEST, "--exit-status"]);
      assert.equal(denied.code, 3, denied.stderr);
      assert.match(denied.stdout, /^Denied/);
    });

    await t.step("completions come from the bundled tab", async () => {
      const result = await cli(["complete", "--", "acl", "s"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^simulate\t/);
    });

    await t.step(
      "dev: the bundled broker accepts the seeded user and enforces the policy",
      async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--no-config",
            "--cached-only",
            "cloudsignal.mjs",
            "dev",
            "--api-port",
            "0",
            "--mqtt-port",
            "0",
            "--json",
          ],
          cwd: runDir,
          env: { DENO_DIR: denoDir, CLOUDSIGNAL_HOME: `${dir.path}/home`, NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const stderr = child.stderr.pipeThrough(new TextDecoderStream());
        const stderrText = (async () => {
          let text = "";
          for await (const chunk of stderr) text += chunk;
          return text;
        })();
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        try {
          let line = "";
          while (!line.includes("\n")) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`dev ended early:\n${await stderrText}`);
            line += value;
          }
          const info = JSON.parse(line.split("\n")[0]) as {
            mqtt_url: string;
            organization: { short_id: string };
            user: { username: string; password: string };
          };
          const username = `${info.user.username}@${info.organization.short_id}`;
          const options = {
            protocolVersion: 4 as const,
            reconnectPeriod: 0,
            connectTimeout: 10_000,
          };
          const client = await mqtt.connectAsync(info.mqtt_url, {
            ...options,
            username,
            password: info.user.password,
            clientId: "bundle-test",
          });
          try {
            // A new organization's policy denies everything: SUBACK 128.
            const granted = await client.subscribeAsync("sensors/#", { qos: 0 }).catch(
              (error: { packet?: { granted?: number[] } }) =>
                (error.packet?.granted ?? []).map((qos) => ({ qos })),
            );
            assert.deepEqual(granted.map((grant) => grant.qos), [128]);
          } finally {
            await client.endAsync();
          }
          await assert.rejects(
            mqtt.connectAsync(info.mqtt_url, {
              ...options,
              username,
              password: "not-the-password",
              clientId: "bundle-test-2",
            }),
          );
        } finally {
          clearTimeout(killer);
          child.kill("SIGTERM");
          await reader.cancel().catch(() => {});
          await child.status;
          await stderrText;
        }
      },
    );

    await t.step("nothing was written next to the bundle, and nothing downloaded", async () => {
      assert.deepEqual(await listDir(runDir), ["cloudsignal.mjs"]);
      const npm = await listDir(`${denoDir}/npm`).catch(() => []);
      assert.deepEqual(npm, [], "no npm package was fetched");
    });
  } finally {
    await dir.cleanup();
  }
});

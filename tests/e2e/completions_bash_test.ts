/**
 * Asks a real interactive bash (in a pseudo-terminal, via util-linux `script`) to complete
 * `cloudsignal …` after loading `cloudsignal completions bash`, with no bash-completion
 * package and no rc files. The TAB is followed by keys that make bash echo the edited line.
 */

import assert from "node:assert/strict";
import { MAIN, tempDir } from "../support/cli.ts";

interface Shell {
  send(text: string): Promise<void>;
  /** Reads output until `pattern` matches; returns the match. */
  expect(pattern: RegExp): Promise<RegExpMatchArray>;
  close(): Promise<void>;
}

function interactiveBash(binDir: string, home: string): Shell {
  const child = new Deno.Command("script", {
    args: ["--quiet", "--return", "--command", "bash --norc --noprofile -i", "/dev/null"],
    env: {
      PATH: `${binDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      HOME: home,
      TERM: "dumb",
      INPUTRC: "/dev/null",
      NO_COLOR: "1",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      BASH_ENV: "",
      ENV: "",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 90_000);
  let seen = "";
  return {
    send: (text) => writer.write(new TextEncoder().encode(text)),
    async expect(pattern) {
      while (true) {
        const match = seen.match(pattern);
        if (match) {
          seen = seen.slice(match.index! + match[0].length);
          return match;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`bash ended before ${pattern}; it printed:\n${seen}`);
        seen += value;
      }
    },
    async close() {
      await writer.write(new TextEncoder().encode("exit\n")).catch(() => {});
      await writer.close().catch(() => {});
      await reader.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
      clearTimeout(killer);
    },
  };
}

Deno.test("completions bash: an interactive bash completes commands, choices and paths", async () => {
  const dir = await tempDir("cloudsignal-completions-");
  try {
    const bin = `${dir.path}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/cloudsignal`,
      `#!/bin/sh\nexec "${Deno.execPath()}" run -A --quiet "${MAIN}" "$@"\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(`${dir.path}/policy-for-completion.json`, "{}");
    const bash = interactiveBash(bin, dir.path);
    try {
      await bash.send(
        `cd "${dir.path}"; source <(cloudsignal completions bash); echo READY-$((40+2))\n`,
      );
      await bash.expect(/READY-42\r?\n/);

      // Types `line`, presses TAB, then Ctrl-A and `echo LINE-n:` so bash prints the edited line.
      let n = 0;
      const complete = async (line: string): Promise<string> => {
        n += 1;
        await bash.send(`${line}\t\x01echo LINE-$((${n}*1000)): \n`);
        const [, edited] = await bash.expect(new RegExp(`LINE-${n * 1000}: (.*?)\\r?\\n`));
        return edited;
      };

      assert.equal(await complete("cloudsignal acl s"), "cloudsignal acl simulate");
      assert.equal(
        await complete("cloudsignal acl simulate --ac"),
        "cloudsignal acl simulate --action",
      );
      assert.equal(
        await complete("cloudsignal acl simulate --action p"),
        "cloudsignal acl simulate --action pub",
      );
      assert.equal(
        await complete("cloudsignal acl init --preset chat"),
        "cloudsignal acl init --preset chat-channels",
      );
      assert.equal(await complete("cloudsignal compl"), "cloudsignal completions");
      // A <file> argument falls back to file names.
      assert.equal(
        await complete("cloudsignal acl validate policy-for"),
        "cloudsignal acl validate policy-for-completion.json",
      );
      // Where only a value without candidates fits, bash does not offer file names.
      assert.equal(
        await complete("cloudsignal acl simulate --topic policy-for"),
        "cloudsignal acl simulate --topic policy-for",
      );
    } finally {
      await bash.close();
    }
  } finally {
    await dir.cleanup();
  }
});

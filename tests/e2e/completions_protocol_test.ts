/** `cloudsignal completions <shell>` scripts and the hidden `complete -- <words>` protocol. */

import assert from "node:assert/strict";
import { runCli } from "../support/cli.ts";

/** Runs `cloudsignal complete -- <words>`: the candidates and the directive. */
async function complete(...words: string[]): Promise<{ values: string[]; directive: number }> {
  const result = await runCli(["complete", "--", ...words]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  const last = lines.pop()!;
  assert.match(last, /^:\d+$/, result.stdout);
  return { values: lines.map((line) => line.split("\t")[0]), directive: Number(last.slice(1)) };
}

const NO_FILES = 4;
const FILES = 0;

/** The names in the "Commands:" section of `<args> --help`. */
async function helpCommands(args: string[]): Promise<string[]> {
  const result = await runCli([...args, "--help"]);
  assert.equal(result.code, 0, result.stderr);
  const section = result.stdout.split(/^Commands:\n/m)[1] ?? "";
  return section.split("\n\n")[0].split("\n").filter((line) => /^ {2}\S/.test(line))
    .map((line) => line.trim().split(/[ |]/)[0]);
}

Deno.test("complete: the commands of every group are those --help lists", async () => {
  const top = await helpCommands([]);
  assert.ok(top.includes("acl") && top.includes("completions"), top.join(","));
  assert.ok(!top.includes("complete"), "the callback command is hidden");
  const offered = (await complete("")).values;
  for (const name of top) assert.ok(offered.includes(name), `${name} missing from ${offered}`);
  assert.ok(!offered.includes("complete"));
  for (const group of top.filter((name) => name !== "help")) {
    const subcommands = await helpCommands([group]);
    if (subcommands.length === 0) continue;
    const values = (await complete(group, "")).values;
    for (const name of subcommands) {
      assert.ok(values.includes(name), `${group} ${name} missing from ${values}`);
    }
  }
});

Deno.test("complete: a prefix narrows the commands, and no file names are offered", async () => {
  assert.deepEqual(await complete("acl", "s"), { values: ["simulate"], directive: NO_FILES });
  assert.deepEqual(await complete("acl", "v"), { values: ["validate"], directive: NO_FILES });
});

Deno.test("complete: option values come from the choices", async () => {
  assert.deepEqual(await complete("acl", "simulate", "--action", ""), {
    values: ["pub", "sub"],
    directive: NO_FILES,
  });
  const presets = await complete("acl", "init", "--preset", "");
  assert.ok(presets.values.includes("blank") && presets.values.includes("chat-channels"));
  assert.deepEqual((await complete("completions", "")).values, [
    "bash",
    "zsh",
    "fish",
    "powershell",
    "pwsh",
  ]);
});

Deno.test("complete: options of the command and the global ones, after the command", async () => {
  const { values } = await complete("acl", "simulate", "--");
  for (const flag of ["--policy", "--topic", "--action", "--claim", "--exit-status"]) {
    assert.ok(values.includes(flag), `${flag} missing`);
  }
  for (const flag of ["--api-url", "--debug", "--no-color"]) {
    assert.ok(values.includes(flag), `global ${flag} missing`);
  }
  assert.deepEqual(await complete("acl", "simulate", "--to"), {
    values: ["--topic"],
    directive: NO_FILES,
  });
});

Deno.test("complete: paths are left to the shell where a file is expected", async () => {
  assert.deepEqual(await complete("acl", "validate", ""), { values: [], directive: FILES });
  assert.deepEqual(await complete("acl", "test", "pol"), { values: [], directive: FILES });
  assert.deepEqual(await complete("acl", "simulate", "--policy", ""), {
    values: [],
    directive: FILES,
  });
  assert.deepEqual(await complete("acl", "init", "-o", "x"), { values: [], directive: FILES });
  // A value that is not a path: nothing, and no file names either.
  assert.deepEqual(await complete("acl", "simulate", "--topic", ""), {
    values: [],
    directive: NO_FILES,
  });
});

Deno.test("completions: a script per shell that calls `cloudsignal complete --` back", async () => {
  const expected: Record<string, RegExp[]> = {
    bash: [/^# bash completion for cloudsignal/, /complete -o default -F __cloudsignal_complete/],
    zsh: [/^#compdef cloudsignal/, /compdef _cloudsignal cloudsignal/],
    fish: [/^# fish completion for cloudsignal/, /complete -c cloudsignal/],
    powershell: [/Register-ArgumentCompleter/, /-CommandName 'cloudsignal'/],
  };
  for (const [shell, patterns] of Object.entries(expected)) {
    const result = await runCli(["completions", shell]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    for (const pattern of patterns) assert.match(result.stdout, pattern, shell);
    assert.match(result.stdout, /cloudsignal complete '?--'?/, shell);
  }
  const pwsh = await runCli(["completions", "pwsh"]);
  assert.equal(pwsh.stdout, (await runCli(["completions", "powershell"])).stdout);
});

Deno.test("completions bash: the script is valid bash", async () => {
  const script = await runCli(["completions", "bash"]);
  const check = await new Deno.Command("bash", {
    args: ["-n"],
    stdin: "piped",
    stderr: "piped",
  }).spawn();
  const writer = check.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script.stdout));
  await writer.close();
  const status = await check.output();
  assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
});

Deno.test("completions: an unknown shell is a usage error naming the choices", async () => {
  const result = await runCli(["completions", "tcsh"]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^Error: .*'tcsh' is invalid for argument 'shell'/);
  assert.match(result.stderr, /Allowed choices are bash, zsh, fish, powershell/);
});

#!/usr/bin/env node
// The `cloudsignal` command of @cloudsignal/cli where the install script did not replace it
// with the native binary (Windows, or install scripts not run): starts this platform's
// native binary, or else the CLI's lazy bundle on Deno from PATH, and passes the exit code
// and signals through. Copied to bin/cloudsignal by scripts/build_npm.ts.
"use strict";

const { spawn } = require("node:child_process");
const {
  DENO_ENV,
  denoArgs,
  denoOnPath,
  nativeBinary,
  noRuntimeMessage,
} = require("../lib/platform.cjs");

function fail(message) {
  process.stderr.write(message);
  process.exit(1);
}

const args = process.argv.slice(2);
const native = nativeBinary();
let command = native.file;
let commandArgs = args;
let env = process.env;
if (!command) {
  command = denoOnPath();
  if (!command) fail(noRuntimeMessage(native.reason));
  commandArgs = denoArgs(args);
  env = { ...process.env, ...DENO_ENV };
}

const child = spawn(command, commandArgs, { stdio: "inherit", env });

// Ctrl-C reaches the child too (same process group) and the child decides how to stop;
// other signals sent to this process are passed on.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}

child.on("error", (error) => fail(`Error: cannot start ${command}: ${error.message}\n`));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});

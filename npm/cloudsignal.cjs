#!/usr/bin/env node
// The `cloudsignal` command of the @cloudsignal/cli npm package: runs the bundled CLI
// (../cloudsignal.mjs) on the Deno runtime of the `deno` npm package it depends on.
// Copied into the package by scripts/build_npm.ts.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

/** The `@deno/<platform>` package that ships the runtime for this machine. */
function platformPackage() {
  const arch = { x64: "x64", arm64: "arm64" }[process.arch];
  const os = { linux: "linux", darwin: "darwin", win32: "win32" }[process.platform];
  if (!arch || !os) return undefined;
  return `@deno/${os}-${arch}${os === "linux" ? "-glibc" : ""}`;
}

/**
 * The Deno executable: the one the `deno` package's install script put in its folder, else
 * the one in its platform package (when install scripts did not run).
 */
function denoExecutable() {
  const exe = process.platform === "win32" ? "deno.exe" : "deno";
  let denoDir;
  try {
    denoDir = path.dirname(require.resolve("deno/package.json"));
  } catch {
    fail("the `deno` npm package is missing; reinstall @cloudsignal/cli.");
  }
  const candidates = [path.join(denoDir, exe)];
  const platform = platformPackage();
  if (platform) {
    try {
      const dir = path.dirname(require.resolve(`${platform}/package.json`, { paths: [denoDir] }));
      candidates.push(path.join(dir, exe));
    } catch {
      // not installed for this platform
    }
  }
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    fail(
      `no Deno runtime for ${process.platform}-${process.arch} in the \`deno\` npm package ` +
        `(looked at ${candidates.join(", ")}). Deno supports x64 and arm64 on Linux (glibc), ` +
        "macOS and Windows; reinstall @cloudsignal/cli with optional dependencies enabled.",
    );
  }
  return found;
}

const bundle = path.join(__dirname, "..", "cloudsignal.mjs");
const child = spawn(
  denoExecutable(),
  ["run", "--allow-all", "--no-config", "--no-lock", bundle, ...process.argv.slice(2)],
  {
    stdio: "inherit",
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PACKAGE_JSON: "1" },
  },
);

// Ctrl-C reaches Deno too (same process group) and Deno decides how to stop; other
// signals sent to this process are passed on.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}

child.on("error", (error) => fail(`cannot start Deno: ${error.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});

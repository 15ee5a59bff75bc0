// The install script of @cloudsignal/cli, as esbuild's: makes `cloudsignal` start without
// Node.js. It replaces bin/cloudsignal (a Node.js launcher, which npm linked as the command)
// with a hard link to this platform's native binary, or, where no binary exists for the
// platform, with a shell script that runs the lazy bundle on Deno. On Windows (npm's command
// shim runs the launcher with node) and under Yarn (which may share one node_modules between
// platforms) it leaves the launcher. It never fails the install: the launcher works anyway.
// Copied into the package by scripts/build_npm.ts.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { nativeBinary, shellLauncher } = require("./lib/platform.cjs");

const BIN = path.join(__dirname, "bin", "cloudsignal");

/** Writes a new bin/cloudsignal with `write(tempPath)` and renames it into place. */
function replaceBin(write) {
  const temp = `${BIN}.install-${process.pid}`;
  try {
    write(temp);
    fs.chmodSync(temp, 0o755);
    fs.renameSync(temp, BIN);
  } finally {
    // A rename onto a hard link of the same file leaves the temporary name behind.
    fs.rmSync(temp, { force: true });
  }
}

function optimize() {
  if (process.platform === "win32") return;
  if (/\byarn\//.test(process.env.npm_config_user_agent || "")) return;
  const native = nativeBinary();
  if (native.file) {
    replaceBin((temp) => {
      try {
        fs.linkSync(native.file, temp);
      } catch {
        fs.copyFileSync(native.file, temp);
      }
    });
  } else {
    replaceBin((temp) => fs.writeFileSync(temp, shellLauncher(native.reason)));
  }
}

try {
  optimize();
} catch (error) {
  process.stderr.write(
    `@cloudsignal/cli: keeping the Node.js launcher (${error.message}); cloudsignal works, ` +
      "with Node.js starting it\n",
  );
}

// What the `cloudsignal` command of @cloudsignal/cli (bin/cloudsignal) and its install script
// (install.cjs) share: the package that holds this machine's native binary, and how the CLI
// runs on Deno where there is none. Copied to lib/platform.cjs by scripts/build_npm.ts.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const MANIFEST = require("../package.json");

/** The package with the binary for this OS and CPU (`@cloudsignal/cli-<os>-<cpu>`). */
function platformPackage() {
  return `${MANIFEST.name}-${process.platform}-${process.arch}`;
}

/**
 * The native binary of this machine's platform package, when it is installed at this
 * package's version (`{ file }`); else why not and what to do (`{ reason }`).
 */
function nativeBinary() {
  const name = platformPackage();
  const platform = `${process.platform}-${process.arch}`;
  const reinstall = `reinstall ${MANIFEST.name}`;
  const shipped = Object.keys(MANIFEST.optionalDependencies || {});
  if (!shipped.includes(name)) {
    const list = shipped.map((pkg) => pkg.slice(MANIFEST.name.length + 1)).join(", ");
    return {
      reason: `${MANIFEST.name} ${MANIFEST.version} has no binary for ${platform} ` +
        (list ? `(only for ${list})` : "(this build has none)"),
    };
  }
  let manifestPath;
  try {
    manifestPath = require.resolve(`${name}/package.json`, { paths: [ROOT] });
  } catch {
    return {
      reason: `${name}, which holds the binary, is not installed; ${reinstall} with ` +
        "optional dependencies (without --omit=optional or --no-optional)",
    };
  }
  const version = JSON.parse(fs.readFileSync(manifestPath, "utf8")).version;
  if (version !== MANIFEST.version) {
    return { reason: `${name} is ${version}, not ${MANIFEST.version}; ${reinstall}` };
  }
  const file = path.join(
    path.dirname(manifestPath),
    process.platform === "win32" ? "cloudsignal.exe" : "cloudsignal",
  );
  return fs.existsSync(file) ? { file } : { reason: `${file} is missing; ${reinstall}` };
}

/** The lazy bundle's entry, which Deno runs where there is no native binary. */
const LAZY_ENTRY = path.join(ROOT, "lazy", "cloudsignal.js");

/** `deno` arguments that run the lazy bundle with `args`. */
function denoArgs(args) {
  return ["run", "--allow-all", "--no-config", "--no-lock", LAZY_ENTRY, ...args];
}

/** What Deno gets in its environment besides the user's. */
const DENO_ENV = { DENO_NO_UPDATE_CHECK: "1", DENO_NO_PACKAGE_JSON: "1" };

/** The first `deno` executable on PATH, or undefined. */
function denoOnPath() {
  const name = process.platform === "win32" ? "deno.exe" : "deno";
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      if (fs.statSync(file).isFile()) {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      }
    } catch {
      // not there, or not executable
    }
  }
  return undefined;
}

/** The message when there is neither a native binary nor Deno. */
function noRuntimeMessage(reason) {
  return `Error: cannot start cloudsignal: ${reason}; and there is no Deno on PATH to run ` +
    "it without a binary.\nInstall Deno 2.9 or later: " +
    "https://docs.deno.com/runtime/getting_started/installation/\n";
}

/** The shell script that runs the lazy bundle on Deno from PATH (no Node.js in between). */
function shellLauncher(reason) {
  const quote = (text) => `'${text.replaceAll("'", "'\\''")}'`;
  const env = Object.entries(DENO_ENV).map(([key, value]) => `${key}=${value}`).join(" ");
  return [
    "#!/bin/sh",
    `# Written by the install script of ${MANIFEST.name} ${MANIFEST.version}: no native binary`,
    `# (${reason}),`,
    "# so the CLI runs on Deno from PATH.",
    "if ! command -v deno >/dev/null 2>&1; then",
    `  printf '%s' ${quote(noRuntimeMessage(reason))} >&2`,
    "  exit 1",
    "fi",
    `${env} exec deno ${denoArgs([]).map(quote).join(" ")} "$@"`,
    "",
  ].join("\n");
}

module.exports = {
  DENO_ENV,
  denoArgs,
  denoOnPath,
  nativeBinary,
  noRuntimeMessage,
  platformPackage,
  shellLauncher,
};

/**
 * `cloudsignal dev`: checks the flags, starts the platform, prints how to use it, and
 * stops cleanly on Ctrl+C (SIGINT) or SIGTERM.
 */

import type { CliContext } from "../../cli/program.ts";
import { OperationError, UsageError } from "../../core/errors.ts";
import { EXIT_OK } from "../../cli/exit_codes.ts";
import { printJson } from "../../cli/json_output.ts";
import {
  DATABASE_FILE,
  type RunningPlatform,
  startPlatform,
  StoreError,
} from "../../platform/mod.ts";

/** The flags of `dev`. */
export interface DevFlags {
  apiPort: string;
  mqttPort: string;
  dataDir?: string;
  email: string;
  password?: string;
  accessTokenTtl: string;
  refreshTokenTtl: string;
  authCodeTtl: string;
  reset?: boolean;
  quietPublishes?: boolean;
  json?: boolean;
}

function port(text: string, flag: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`${flag} must be a port number from 0 to 65535 (got "${text}")`);
  }
  return Number(text);
}

function seconds(text: string, flag: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${flag} must be a whole number of seconds, at least 1 (got "${text}")`);
  }
  return Number(text);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
}

/**
 * Refuses a data directory that is a file or lies under one, before anything is created or
 * removed: a usage error when `--data-dir` named it, an error when it is the default.
 */
async function checkDataDir(dataDir: string, fromFlag: boolean): Promise<void> {
  for (let path = dataDir;; path = parentOf(path)) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      // Missing, or under a file: look further up for what is there.
      const missing = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory;
      if (missing && parentOf(path) !== path) continue;
      return; // Unreadable: opening the store reports it.
    }
    if (info.isDirectory) return;
    const what = path === dataDir
      ? `${dataDir} is a file, not a directory`
      : `${dataDir} cannot be a directory: ${path} is a file`;
    if (fromFlag) {
      throw new UsageError(
        `--data-dir ${what}`,
        "--data-dir names the directory that holds the platform's SQLite database " +
          `(${DATABASE_FILE}); it is created when missing.`,
        "--data-dir",
      );
    }
    throw new OperationError(
      `the platform's data directory ${what}`,
      "Move that file away, or choose another directory with --data-dir.",
    );
  }
}

async function removeDatabase(dataDir: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    await Deno.remove(`${dataDir}/${DATABASE_FILE}${suffix}`).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

function quote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function banner(platform: RunningPlatform, dataDir: string): string {
  const { organization, user } = platform;
  const mqtt = new URL(platform.mqttUrl);
  const mqttUser = `${user.username}@${organization.short_id}`;
  const password = user.password === null
    ? "(unchanged: the user already existed; --password sets a new one)"
    : user.password;
  return [
    "",
    `  API:           ${platform.apiUrl}`,
    `  MQTT:          ${platform.mqttUrl}`,
    "  Protocol:      MQTT 3.1.1 only (CloudSignal's hosted broker speaks MQTT 5)",
    `  Organization:  ${organization.name} (id ${organization.id}, short id ${organization.short_id})`,
    `  User:          ${user.email} (MQTT username ${mqttUser})`,
    `  Password:      ${password}`,
    `  Data:          ${dataDir}/${DATABASE_FILE}`,
    "",
    "Point the CLI at it:",
    `  cloudsignal login --api-url ${platform.apiUrl}`,
    "",
    "MQTT: username <username>@<org_short_id>; password: an access token, or the user's MQTT",
    "password (the seeded user's is the password above). For example:",
    `  mosquitto_sub -h ${mqtt.hostname} -p ${mqtt.port} -u ${
      quote(mqttUser)
    } -P <password> -t 'sensors/#' -v`,
    "",
    "New organizations deny everything until you push a policy " +
    "(cloudsignal acl init --preset permit-all; " +
    "cloudsignal acl update policy.json --if-revision 1).",
    "Press Ctrl+C to stop.",
    "",
  ].join("\n");
}

/** Runs the platform until SIGINT or SIGTERM. */
export async function runDev(context: CliContext, flags: DevFlags): Promise<number> {
  const { io } = context;
  const apiPort = port(flags.apiPort, "--api-port");
  const mqttPort = port(flags.mqttPort, "--mqtt-port");
  const accessTokenTtlSeconds = seconds(flags.accessTokenTtl, "--access-token-ttl");
  const refreshTokenTtlSeconds = seconds(flags.refreshTokenTtl, "--refresh-token-ttl");
  const authCodeTtlSeconds = seconds(flags.authCodeTtl, "--auth-code-ttl");
  if (!/^[^\s@]+@[^\s@]+$/.test(flags.email)) {
    throw new UsageError(`--email must be an email address (got "${flags.email}")`);
  }
  if (flags.password !== undefined && flags.password.length < 8) {
    throw new UsageError("--password must have at least 8 characters");
  }
  const dataDir = (flags.dataDir ?? `${context.home}/dev`).replace(/(.)\/+$/, "$1");
  await checkDataDir(dataDir, flags.dataDir !== undefined);
  if (flags.reset) await removeDatabase(dataDir);

  // Listen before anything is printed, so a signal right after the banner stops cleanly.
  const stopRequested = new Promise<void>((resolve) => {
    let stoppingSince = 0;
    const stop = (signal: Deno.Signal) => {
      if (stoppingSince > 0) {
        // A second signal right away is usually the same Ctrl+C relayed twice; later ones insist.
        if (Date.now() - stoppingSince < 1000) return;
        io.err(`${signal} again: exiting without waiting\n`);
        Deno.exit(130);
      }
      stoppingSince = Date.now();
      io.err(`${signal}: stopping the platform…\n`);
      resolve();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    Deno.addSignalListener("SIGINT", onInt);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", onTerm);
  });
  io.err(
    "CloudSignal development platform (cloudsignal dev): not the hosted service. No TLS; " +
      "it listens on 127.0.0.1 only; its broker speaks MQTT 3.1.1 (the hosted one MQTT 5).\n",
  );
  let platform: RunningPlatform;
  try {
    platform = await startPlatform({
      dataDir,
      apiPort,
      mqttPort,
      email: flags.email,
      password: flags.password,
      accessTokenTtlSeconds,
      refreshTokenTtlSeconds,
      authCodeTtlSeconds,
      logAllowedPublishes: !flags.quietPublishes,
      log: (line) => io.err(`${line}\n`),
    });
  } catch (error) {
    throw startError(error, apiPort, mqttPort, dataDir);
  }

  if (flags.json) {
    printJson(io, {
      api_url: platform.apiUrl,
      mqtt_url: platform.mqttUrl,
      organization: platform.organization,
      user: platform.user,
      data_dir: dataDir,
    });
  } else {
    io.out(banner(platform, dataDir));
  }

  await stopRequested;
  await platform.close();
  io.err("stopped\n");
  return EXIT_OK;
}

function startError(error: unknown, apiPort: number, mqttPort: number, dataDir: string): Error {
  if (error instanceof Deno.errors.AddrInUse) {
    return new OperationError(
      `port ${apiPort} (--api-port) is already in use`,
      "stop the other program, or choose another port (--api-port 0 picks a free one)",
    );
  }
  const code = (error as { code?: string })?.code;
  if (code === "EADDRINUSE") {
    return new OperationError(
      `port ${mqttPort} (--mqtt-port) is already in use`,
      "stop the other broker, or choose another port (--mqtt-port 0 picks a free one)",
    );
  }
  if (error instanceof StoreError) return new OperationError(error.message);
  if (error instanceof Deno.errors.PermissionDenied) {
    return new OperationError(`cannot write the data directory ${dataDir}: permission denied`);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/database|sqlite/i.test(message)) {
    return new OperationError(
      `cannot open the platform database in ${dataDir}: ${message}`,
      "use --reset to start over with an empty database, or another --data-dir",
    );
  }
  return error instanceof Error ? error : new Error(message);
}

/**
 * A small npm registry on 127.0.0.1 for the npm channel's tests and benchmark: it serves the
 * packuments and tarballs of packages packed with `npm pack` and answers 404 to everything
 * else, so the real npm client resolves, filters (`os`, `cpu`, `libc`), downloads and
 * installs them as it would from registry.npmjs.org.
 */

import assert from "node:assert/strict";
import { run, type RunResult } from "./distribution_support.ts";

/** A running registry. */
export interface Registry {
  /** The registry URL (`npm_config_registry`). */
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** The package.json inside a packed tarball. */
async function manifestOf(tarball: string): Promise<Record<string, unknown>> {
  const output = await new Deno.Command("tar", {
    args: ["-xzOf", tarball, "package/package.json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`${tarball}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function digest(algorithm: string, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, data as Uint8Array<ArrayBuffer>));
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Serves the tarballs (each one version of a package) until `close`. */
export async function serveRegistry(tarballs: string[]): Promise<Registry> {
  const packuments = new Map<string, { versions: Record<string, unknown>; latest: string }>();
  const files = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    requests.push(path);
    const packument = packuments.get(path.slice(1));
    if (packument) {
      const name = path.slice(1);
      return Response.json({
        name,
        "dist-tags": { latest: packument.latest },
        versions: packument.versions,
      });
    }
    const file = files.get(path);
    if (file) {
      return new Response(file as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "application/octet-stream" },
      });
    }
    return Response.json({ error: "Not found" }, { status: 404 });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  for (const tarball of tarballs) {
    const manifest = await manifestOf(tarball);
    const name = String(manifest.name);
    const version = String(manifest.version);
    const data = await Deno.readFile(tarball);
    const file = `/${name}/-/${name.split("/").at(-1)}-${version}.tgz`;
    files.set(file, data);
    const entry = packuments.get(name) ?? { versions: {}, latest: version };
    entry.versions[version] = {
      ...manifest,
      _id: `${name}@${version}`,
      dist: {
        tarball: `${url}${file}`,
        integrity: `sha512-${base64(await digest("SHA-512", data))}`,
        shasum: hex(await digest("SHA-1", data)),
      },
    };
    entry.latest = version;
    packuments.set(name, entry);
  }
  return { url, requests, close: () => server.shutdown() };
}

/** What `npm pack --json` reports about one package. */
export interface PackResult {
  name: string;
  filename: string;
  files: { path: string; mode: number }[];
}

/** Package folders packed and served, and npm pointed at them. */
export interface LocalPublication {
  registry: Registry;
  packed: PackResult[];
  /** Runs npm with the registry and a cache of this publication's own. */
  npm(args: string[], cwd: string): Promise<RunResult>;
}

/** Packs `folders` into `dir` with `npm pack` and serves them until `registry.close()`. */
export async function publishLocally(folders: string[], dir: string): Promise<LocalPublication> {
  const result = await run("npm", [
    "pack",
    ...folders.map((folder) => `file:${folder}`),
    "--pack-destination",
    dir,
    "--json",
  ], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const packed = JSON.parse(result.stdout) as PackResult[];
  const registry = await serveRegistry(packed.map((p) => `${dir}/${p.filename}`));
  const env = {
    npm_config_registry: registry.url,
    npm_config_cache: `${dir}/npm-cache`,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
  return { registry, packed, npm: (args, cwd) => run("npm", args, { cwd, env }) };
}

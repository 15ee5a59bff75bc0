/** The CLI's version and the commit it was built from. */

import config from "../deno.json" with { type: "json" };

/** Build facts a release build sets before the CLI loads (scripts/build_bundle.ts). */
interface BuildInfo {
  commit?: string;
}

/** The release version, from deno.json. */
export const VERSION: string = config.version;

/** The commit of a release build, or "dev" when running from source. */
export function buildCommit(): string {
  const info = (globalThis as { __CLOUDSIGNAL_BUILD__?: BuildInfo }).__CLOUDSIGNAL_BUILD__;
  return info?.commit ?? "dev";
}

/** `cloudsignal --version` output. */
export function versionText(): string {
  return `cloudsignal ${VERSION} (commit ${buildCommit()}, deno ${Deno.version.deno})`;
}

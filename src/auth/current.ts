/**
 * Which API a command talks to when neither `--api-url` nor `CLOUDSIGNAL_API_URL` names one:
 * the API URL of the current session (the last login or `auth switch`). Read without waiting,
 * while the front end builds its context, so every operation sees the same API URL.
 */

import { credentialsLocation, currentApiUrlOf, readCredentialsSync } from "./credentials.ts";

/**
 * The current session's API URL, or null for the default API: when `CLOUDSIGNAL_TOKEN` is set
 * (the stored sessions are not used then), when nothing is stored, or when the credentials
 * file cannot be used (the command that needs a token then reports why).
 */
export function currentApiUrl(
  home: string,
  env: (name: string) => string | undefined,
): string | null {
  if ((env("CLOUDSIGNAL_TOKEN")?.trim() ?? "") !== "") return null;
  try {
    const file = readCredentialsSync(credentialsLocation(home));
    return file ? currentApiUrlOf(file) : null;
  } catch {
    return null;
  }
}

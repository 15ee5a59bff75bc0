import assert from "node:assert/strict";
import {
  base64url,
  constantTimeEqual,
  createPkcePair,
  randomToken,
  s256Challenge,
} from "../../src/auth/pkce.ts";

Deno.test("PKCE S256 matches the RFC 7636 appendix B example", async () => {
  // The appendix's 32 random octets, their base64url verifier, and its challenge.
  const octets = new Uint8Array([
    116,
    24,
    223,
    180,
    151,
    153,
    224,
    37,
    79,
    250,
    96,
    125,
    216,
    173,
    187,
    186,
    22,
    212,
    37,
    77,
    105,
    214,
    191,
    240,
    91,
    88,
    5,
    88,
    83,
    132,
    141,
    121,
  ]);
  const verifier = base64url(octets);
  assert.equal(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  assert.equal(await s256Challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
});

Deno.test("a fresh PKCE pair: 43-character verifier, its S256 challenge, never repeated", async () => {
  const first = await createPkcePair();
  const second = await createPkcePair();
  assert.match(first.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(first.method, "S256");
  assert.equal(first.challenge, await s256Challenge(first.verifier));
  assert.notEqual(first.verifier, second.verifier);
});

Deno.test("random state values are base64url, 256 bits, and distinct", () => {
  const values = new Set(Array.from({ length: 200 }, () => randomToken(32)));
  assert.equal(values.size, 200);
  for (const value of values) assert.match(value, /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("constantTimeEqual compares whole strings of any length", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "ab"), false);
  assert.equal(constantTimeEqual("", "a"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("é", "e"), false);
});

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * API tokens: `tl_<id>_<secret>`, prefixed so secret scanners and grep find them (as GitHub's
 * ghp_ and Stripe's sk_live_): the id (64 random bits, hex) names the token in lists and logs,
 * the secret is 256 random bits (base64url). Only a keyed hash of the secret is stored: HMAC-SHA256
 * with a server pepper that lives outside Redis, so a copy of Redis alone does not let anyone
 * check guesses.
 */

export const TOKEN_PATTERN = /^tl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const TOKEN_ID_PATTERN = /^[0-9a-f]{16}$/;

export interface NewToken {
  id: string;
  secret: string;
  /** What the client sends: tl_<id>_<secret>. Shown once. */
  token: string;
}

export function newToken(): NewToken {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `tl_${id}_${secret}` };
}

/** The id and secret of a token, or null when it is not one of Trunkline's. */
export function parseToken(text: string): { id: string; secret: string } | null {
  const m = TOKEN_PATTERN.exec(text);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** The stored form of a token's secret: HMAC-SHA256(pepper, "<id>.<secret>"), hex. */
export function tokenHash(pepper: Buffer, id: string, secret: string): string {
  return createHmac('sha256', pepper).update(`${id}.${secret}`).digest('hex');
}

/** Compares two hashes in constant time. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

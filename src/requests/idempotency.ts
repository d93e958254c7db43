import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Idempotency keys (the IETF httpapi Idempotency-Key draft, as Stripe runs it): the first request
 * with a key claims it; its answer is kept for the TTL, and a retry with the same key and the same
 * request gets that answer again instead of a second job. The same key with another request is
 * refused; a retry while the first is still being handled is told to wait. Only an answer that
 * accepted a job is kept: a refused request leaves no claim, so a corrected retry can use the key.
 * Claim and check are one Lua script, so two identical requests racing make one job.
 */

/** `owner`: the token of this request's claim; only it answers or releases the claim. */
export type Claim =
  | { state: 'claimed'; owner: string }
  | { state: 'in-progress' }
  | { state: 'reused' }
  | { state: 'answered'; answer: string };

// KEYS[1] claim hash; ARGV: fingerprint, seconds a pending claim lives, owner token.
const CLAIM_LUA = `
local fp = redis.call('HGET', KEYS[1], 'fingerprint')
if not fp then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'state', 'pending', 'owner', ARGV[3])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  return {'claimed'}
end
if fp ~= ARGV[1] then return {'reused'} end
if redis.call('HGET', KEYS[1], 'state') == 'pending' then return {'in-progress'} end
return {'answered', redis.call('HGET', KEYS[1], 'answer')}
`;

// KEYS[1]; ARGV: owner, answer, ttl. Only the claim's owner answers.
const ANSWER_LUA = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'answered', 'answer', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

// KEYS[1]; ARGV: owner. Drops its pending claim (the request was refused or failed).
const RELEASE_LUA = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'pending' then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** A pending claim outlives a crashed gateway this long, then the key is free again. */
const PENDING_SECONDS = 120;

/** Sorted keys at every level: the same request always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export const requestFingerprint = (operation: string, input: unknown) =>
  createHash('sha256')
    .update(`${operation}\n${canonicalJson(input)}`)
    .digest('base64url');

/** Keys are opaque strings chosen by the client: printable ASCII, 1..255 characters. */
export function parseIdempotencyKey(raw: string): string | null {
  // The draft makes the header a structured-field string ("..."); a bare token is accepted too.
  const key = /^"(.*)"$/.test(raw) ? raw.slice(1, -1) : raw;
  return /^[\x21-\x7e]{1,255}$/.test(key) ? key : null;
}

interface IdempotencyCommands {
  trunklineIdemClaim(key: string, fingerprint: string, pendingSeconds: number, owner: string): Promise<[string, string | null]>;
  trunklineIdemAnswer(key: string, fingerprint: string, answer: string, ttl: number): Promise<number>;
  trunklineIdemRelease(key: string, fingerprint: string): Promise<number>;
}

export class IdempotencyStore {
  private readonly redis: Redis & IdempotencyCommands;
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(redis: Redis, prefix: string, ttlSeconds: number) {
    this.redis = redis as Redis & IdempotencyCommands;
    this.prefix = prefix;
    this.ttlSeconds = ttlSeconds;
    redis.defineCommand('trunklineIdemClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    redis.defineCommand('trunklineIdemAnswer', { numberOfKeys: 1, lua: ANSWER_LUA });
    redis.defineCommand('trunklineIdemRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  }

  /** `api` keeps REST's and GraphQL's keys apart (their answers differ); `scope` is the caller. */
  private key(api: string, scope: string, key: string): string {
    return `${this.prefix}:idempotency:${api}:${createHash('sha256').update(scope).digest('base64url')}:${key}`;
  }

  async claim(api: string, scope: string, key: string, fingerprint: string): Promise<Claim> {
    const owner = randomUUID();
    let reply: [string, string | null];
    try {
      reply = await this.redis.trunklineIdemClaim(this.key(api, scope, key), fingerprint, PENDING_SECONDS, owner);
    } catch (err) {
      // A command the gateway gave up on (Redis frozen, a timeout) may still be carried out when
      // Redis answers again: this request was refused, so a claim it left must not hold the key
      // for PENDING_SECONDS. Only this request's own claim goes (its owner token).
      this.releaseLater(this.key(api, scope, key), owner);
      throw err;
    }
    const [state, answer] = reply;
    if (state === 'answered') return { state, answer: answer ?? 'null' };
    if (state === 'claimed') return { state, owner };
    return { state: state as 'in-progress' | 'reused' };
  }

  async answer(api: string, scope: string, key: string, owner: string, answer: string): Promise<void> {
    await this.redis.trunklineIdemAnswer(this.key(api, scope, key), owner, answer, this.ttlSeconds);
  }

  async release(api: string, scope: string, key: string, owner: string): Promise<void> {
    await this.redis.trunklineIdemRelease(this.key(api, scope, key), owner);
  }

  /** Releases a claim that may exist, once Redis answers again (tried for about a minute). */
  private releaseLater(claimKey: string, owner: string, attempt = 1): void {
    const timer = setTimeout(() => {
      this.redis.trunklineIdemRelease(claimKey, owner).catch(() => {
        if (attempt < 60) this.releaseLater(claimKey, owner, attempt + 1);
      });
    }, 1000);
    timer.unref();
  }
}

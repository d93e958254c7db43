import type { Redis } from 'ioredis';
import type { Role } from './roles.ts';

/*
 * API tokens in Redis:
 *   <prefix>:auth:tokens        hash: token id → the token as JSON (with the hash of its secret)
 *   <prefix>:auth:tokens:used   hash: token id → when it was last used (written apart, at most
 *                               once a minute per token and gateway, so a busy token does not
 *                               rewrite its record on every request)
 * A revoked token stays (revokedAt set), so lists and the audit log can still name it.
 */

export interface StoredToken {
  id: string;
  name: string;
  role: Role;
  /** Host groups the token is limited to; null: every host. */
  hostGroups: string[] | null;
  /** tokenHash(pepper, id, secret). */
  hash: string;
  createdAt: string;
  /** Who created it: a caller's name, or `trunkline` for the token command. */
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A token as the APIs show it: never its hash. */
export type ApiToken = Omit<StoredToken, 'hash'> & { lastUsedAt: string | null };

export function publicToken(t: StoredToken, lastUsedAt: string | null): ApiToken {
  const { hash: _hash, ...rest } = t;
  return { ...rest, lastUsedAt };
}

export class TokenStore {
  private readonly redis: Redis;
  private readonly key: string;
  private readonly usedKey: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:auth:tokens`;
    this.usedKey = `${prefix}:auth:tokens:used`;
  }

  async create(token: StoredToken): Promise<void> {
    // HSETNX: ids are random; a collision must not replace a token.
    const created = await this.redis.hsetnx(this.key, token.id, JSON.stringify(token));
    if (created !== 1) throw new Error(`token id ${token.id} exists`);
  }

  async get(id: string): Promise<StoredToken | null> {
    const raw = await this.redis.hget(this.key, id);
    return raw ? (JSON.parse(raw) as StoredToken) : null;
  }

  /** Every token (revoked ones too), oldest first. */
  async list(): Promise<ApiToken[]> {
    const [all, used] = await Promise.all([this.redis.hgetall(this.key), this.redis.hgetall(this.usedKey)]);
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as StoredToken)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map((t) => publicToken(t, used[t.id] ?? null));
  }

  async lastUsed(id: string): Promise<string | null> {
    return this.redis.hget(this.usedKey, id);
  }

  /** Marks a token revoked (once: a second revoke keeps the first time). The token after it, or null when there is none. */
  async revoke(id: string, at: string): Promise<StoredToken | null> {
    const token = await this.get(id);
    if (!token) return null;
    if (token.revokedAt) return token;
    const revoked = { ...token, revokedAt: at };
    await this.redis.hset(this.key, id, JSON.stringify(revoked));
    return revoked;
  }

  async touch(id: string, at: string): Promise<void> {
    await this.redis.hset(this.usedKey, id, at);
  }
}

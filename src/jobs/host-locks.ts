import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Releases a lock only if it still holds our token.
 *   KEYS[1] lock key   ARGV[1] token
 */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/*
 * Extends a lock only if it still holds our token.
 *   KEYS[1] lock key   ARGV[1] token   ARGV[2] ttl in ms
 */
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface HostLocks {
  /** Runs fn while holding every host's lock; hosts are locked in name order (no deadlock). */
  withHosts<T>(hosts: readonly string[], fn: () => Promise<T>, onWait?: (host: string) => void): Promise<T>;
}

/**
 * Per-hypervisor mutual exclusion across every worker process on the same Redis: two jobs
 * that touch one host never interleave their steps. A lock expires `ttlMs` after its holder
 * stops renewing it (a killed worker), so a recovered job can go on.
 */
export class RedisHostLocks implements HostLocks {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(redis: Redis, prefix: string, ttlMs: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlMs = ttlMs;
  }

  private key(host: string): string {
    return `${this.prefix}:lock:host:${host}`;
  }

  async withHosts<T>(hosts: readonly string[], fn: () => Promise<T>, onWait?: (host: string) => void): Promise<T> {
    const token = randomUUID();
    const held: string[] = [];
    const renew = setInterval(
      () => {
        for (const h of held) void this.redis.eval(RENEW_LUA, 1, this.key(h), token, String(this.ttlMs)).catch(() => {});
      },
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    try {
      for (const host of [...new Set(hosts)].sort()) {
        await this.acquire(host, token, onWait);
        held.push(host);
      }
      return await fn();
    } finally {
      clearInterval(renew);
      for (const h of held.reverse()) await this.redis.eval(RELEASE_LUA, 1, this.key(h), token).catch(() => {});
    }
  }

  private async acquire(host: string, token: string, onWait?: (host: string) => void): Promise<void> {
    let delay = 25;
    let told = false;
    for (;;) {
      if ((await this.redis.set(this.key(host), token, 'PX', this.ttlMs, 'NX')) === 'OK') return;
      if (!told) {
        onWait?.(host);
        told = true;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 250);
    }
  }
}

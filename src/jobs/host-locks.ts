import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import { workerMetrics } from '../metrics/worker.ts';

/*
 * Releases a lock only if it still holds our token.
 *   KEYS[1] lock key   ARGV[1] token
 */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/*
 * Extends every lock of a lease only if each still holds our token; 0 as soon as one does not.
 *   KEYS lock keys   ARGV[1] token   ARGV[2] ttl in ms
 */
const RENEW_LUA = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return 1`;

/**
 * What a holder of host locks proves it still holds before each thing it does to a host (the
 * fencing token): a worker paused past the lock's expiry (SIGSTOP, a long GC, a VM migration)
 * must not go on as if nothing happened while another worker runs the host.
 */
export interface HostLease {
  readonly hosts: readonly string[];
  /** The token stored in every lock key of the lease (job-store.ts checks it on fenced writes). */
  readonly token: string;
  lockKey(host: string): string;
  /**
   * Throws LOCK_LOST unless every lock is still ours; extends them on the way (one Redis round
   * trip). Also throws, without asking Redis, when the last confirmation is older than the lock's
   * lifetime: the process slept through its renewals, so another may hold the host by now.
   */
  confirm(): Promise<void>;
  /** Whether a renewal or a confirmation already found the lease lost. */
  readonly lost: boolean;
}

export interface HostLocks {
  /** Runs fn while holding every host's lock; hosts are locked in name order (no deadlock). */
  withHosts<T>(hosts: readonly string[], fn: (lease: HostLease) => Promise<T>, onWait?: (host: string) => void): Promise<T>;
}

/** Thrown when a lease was lost: nothing more may be done to its hosts by this holder. */
export class LockLost extends TrunklineError {
  constructor(hosts: readonly string[], why: string) {
    super(ErrorCode.LOCK_LOST, `the lock of ${hosts.join(', ')} was lost (${why}); stopped before touching the host again`, {
      hosts: [...hosts],
    });
  }
}

/** Whether `err` says a lease was lost (a LockLost, or a fenced write the store refused). */
export function isLockLost(err: unknown): boolean {
  return err instanceof TrunklineError && err.code === ErrorCode.LOCK_LOST;
}

/**
 * Per-hypervisor mutual exclusion across every worker process on the same Redis: two jobs
 * that touch one host never interleave their steps. A lock expires `ttlMs` after its holder
 * stops renewing it (a killed worker), so a recovered job can go on; the holder's lease
 * (`HostLease.confirm`) tells it when that happened to it.
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

  key(host: string): string {
    return `${this.prefix}:lock:host:${host}`;
  }

  async withHosts<T>(hosts: readonly string[], fn: (lease: HostLease) => Promise<T>, onWait?: (host: string) => void): Promise<T> {
    const token = randomUUID();
    const held: string[] = [];
    const lease = new RedisLease(this.redis, token, held, (h) => this.key(h), this.ttlMs);
    const renew = setInterval(() => void lease.renew(), Math.max(100, Math.floor(this.ttlMs / 3)));
    try {
      const waiting = performance.now();
      for (const host of [...new Set(hosts)].sort()) {
        await this.acquire(host, token, onWait);
        held.push(host);
        lease.confirmedAt = Date.now();
      }
      workerMetrics.lockWait.observe((performance.now() - waiting) / 1000);
      return await fn(lease);
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

class RedisLease implements HostLease {
  readonly token: string;
  readonly hosts: string[];
  /** When Redis last said every lock is ours (ms, this process's clock). */
  confirmedAt = Date.now();
  private lostWhy: string | null = null;
  private readonly redis: Redis;
  private readonly keyOf: (host: string) => string;
  private readonly ttlMs: number;

  constructor(redis: Redis, token: string, hosts: string[], keyOf: (host: string) => string, ttlMs: number) {
    this.redis = redis;
    this.token = token;
    this.hosts = hosts;
    this.keyOf = keyOf;
    this.ttlMs = ttlMs;
  }

  get lost(): boolean {
    return this.lostWhy !== null;
  }

  lockKey(host: string): string {
    return this.keyOf(host);
  }

  /** Extends every lock if each still holds the token: whether they did (a refusal loses the lease). */
  private async extend(): Promise<boolean> {
    const started = Date.now();
    const ok = await this.redis.eval(RENEW_LUA, this.hosts.length, ...this.hosts.map(this.keyOf), this.token, String(this.ttlMs));
    if (ok === 1) this.confirmedAt = started;
    else this.lose('another holder has it: it expired while this one was not renewing it');
    return ok === 1;
  }

  /** The lease is lost, for the first reason found (counted once). */
  private lose(why: string): void {
    if (this.lostWhy !== null) return;
    this.lostWhy = why;
    workerMetrics.locksLost.inc();
  }

  /** The periodic renewal: a failed round trip is retried next time; a refusal loses the lease. */
  async renew(): Promise<void> {
    if (this.lost || this.hosts.length === 0) return;
    await this.extend().catch(() => {});
  }

  async confirm(): Promise<void> {
    if (this.lostWhy) throw new LockLost(this.hosts, this.lostWhy);
    if (this.hosts.length === 0) return;
    // Renewals are due every ttl / 3: one older than the ttl means this process did not run.
    const silentMs = Date.now() - this.confirmedAt;
    if (silentMs >= this.ttlMs) {
      this.lose(`not renewed for ${silentMs} ms, longer than its ${this.ttlMs} ms lifetime (the process was paused or starved)`);
      throw new LockLost(this.hosts, this.lostWhy!);
    }
    if (!(await this.extend())) throw new LockLost(this.hosts, this.lostWhy!);
  }
}

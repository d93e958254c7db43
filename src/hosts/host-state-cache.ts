import type { Redis } from 'ioredis';
import type { HostState } from './host-state.ts';

/**
 * Observed host state in Redis, one key per host, shared by every gateway and worker. Queries
 * read it and never wait on SSH; workers write it after every read.
 *
 * Each write also bumps the host's revision. Readers keep the states they parsed, keyed by
 * revision, and fetch and parse again only what changed: a fleet query then costs one small
 * MGET instead of parsing every host's state. The memo only ever holds what Redis says.
 * States handed out are shared between requests: treat them as read-only.
 */
export class HostStateCache {
  private readonly parsed = new Map<string, { rev: string; state: HostState }>();

  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private key(host: string): string {
    return `${this.prefix}:host-state:${host}`;
  }
  private revKey(host: string): string {
    return `${this.prefix}:host-state-rev:${host}`;
  }

  async put(state: HostState): Promise<void> {
    await this.redis.multi().set(this.key(state.host), JSON.stringify(state)).incr(this.revKey(state.host)).exec();
  }

  async get(host: string): Promise<HostState | null> {
    return (await this.getMany([host])).get(host) ?? null;
  }

  /** States of many hosts in at most two round trips; missing ones are null. */
  async getMany(hosts: readonly string[]): Promise<Map<string, HostState | null>> {
    const out = new Map<string, HostState | null>();
    if (hosts.length === 0) return out;
    const revs = await this.redis.mget(...hosts.map((h) => this.revKey(h)));
    const stale: Array<{ host: string; rev: string | null }> = [];
    hosts.forEach((host, i) => {
      const rev = revs[i] ?? null;
      const memo = this.parsed.get(host);
      if (rev !== null && memo?.rev === rev) out.set(host, memo.state);
      else stale.push({ host, rev });
    });
    if (stale.length) {
      const texts = await this.redis.mget(...stale.map((s) => this.key(s.host)));
      stale.forEach(({ host, rev }, i) => {
        const text = texts[i];
        const state = text ? (JSON.parse(text) as HostState) : null;
        out.set(host, state);
        if (state && rev !== null) this.parsed.set(host, { rev, state });
        else this.parsed.delete(host);
      });
    }
    return out;
  }

  async delete(host: string): Promise<void> {
    await this.redis.del(this.key(host), this.revKey(host));
    this.parsed.delete(host);
  }
}

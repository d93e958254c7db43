import type { Redis } from 'ioredis';
import type { HostState } from './host-state.ts';

/**
 * Observed host state in Redis, one key per host, shared by every gateway and worker. Queries
 * read it and never wait on SSH; workers write it after every read.
 */
export class HostStateCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(host: string): string {
    return `${this.prefix}:host-state:${host}`;
  }

  async put(state: HostState): Promise<void> {
    await this.redis.set(this.key(state.host), JSON.stringify(state));
  }

  async get(host: string): Promise<HostState | null> {
    const text = await this.redis.get(this.key(host));
    return text === null ? null : (JSON.parse(text) as HostState);
  }

  /** States of many hosts in one round trip; missing ones are null. */
  async getMany(hosts: readonly string[]): Promise<Map<string, HostState | null>> {
    const out = new Map<string, HostState | null>();
    if (hosts.length === 0) return out;
    const texts = await this.redis.mget(...hosts.map((h) => this.key(h)));
    hosts.forEach((h, i) => out.set(h, texts[i] ? (JSON.parse(texts[i]!) as HostState) : null));
    return out;
  }

  async delete(host: string): Promise<void> {
    await this.redis.del(this.key(host));
  }
}

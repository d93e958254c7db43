import type { Redis } from 'ioredis';
import type { Host, HostRegistry } from './host-registry.ts';
import { InventoryHost } from './inventory-file.ts';

/**
 * The host registry in Redis (a hash: name → host JSON), shared by all gateways and workers.
 * Hosts hold a private key *path*, never key material.
 */
export class RedisHostRegistry implements HostRegistry {
  private readonly key: string;
  // Bumped by every write; readers re-read the hash only when it moved.
  private readonly revKey: string;
  private memo: { rev: string; hosts: Host[] } | undefined;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:hosts`;
    this.revKey = `${prefix}:hosts-rev`;
  }

  async list(): Promise<Host[]> {
    const rev = await this.redis.get(this.revKey);
    if (rev !== null && this.memo?.rev === rev) return this.memo.hosts;
    const all = await this.redis.hgetall(this.key);
    const hosts = Object.values(all)
      .map((text) => InventoryHost.parse(JSON.parse(text)))
      .sort((a, b) => a.name.localeCompare(b.name));
    this.memo = rev === null ? undefined : { rev, hosts };
    return hosts;
  }

  async get(name: string): Promise<Host | undefined> {
    const text = await this.redis.hget(this.key, name);
    return text === null ? undefined : InventoryHost.parse(JSON.parse(text));
  }

  /** Adds or replaces a host; returns whether it was new. */
  async put(host: Host): Promise<boolean> {
    const [[, added] = []] = (await this.redis.multi().hset(this.key, host.name, JSON.stringify(host)).incr(this.revKey).exec()) ?? [];
    return added === 1;
  }

  async remove(name: string): Promise<boolean> {
    const [[, removed] = []] = (await this.redis.multi().hdel(this.key, name).incr(this.revKey).exec()) ?? [];
    return removed === 1;
  }

  /** Upserts every host of an inventory file: the file is authoritative for the hosts it names. */
  async seed(hosts: readonly Host[]): Promise<number> {
    if (hosts.length === 0) return 0;
    await this.redis.multi().hset(this.key, Object.fromEntries(hosts.map((h) => [h.name, JSON.stringify(h)]))).incr(this.revKey).exec();
    return hosts.length;
  }
}

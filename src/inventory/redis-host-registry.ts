import type { Redis } from 'ioredis';
import type { Host, HostRegistry } from './host-registry.ts';
import { InventoryHost } from './inventory-file.ts';

/**
 * The host registry in Redis (a hash: name → host JSON), shared by all gateways and workers.
 * Hosts hold a private key *path*, never key material.
 */
export class RedisHostRegistry implements HostRegistry {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:hosts`;
  }

  async list(): Promise<Host[]> {
    const all = await this.redis.hgetall(this.key);
    return Object.values(all)
      .map((text) => InventoryHost.parse(JSON.parse(text)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Host | undefined> {
    const text = await this.redis.hget(this.key, name);
    return text === null ? undefined : InventoryHost.parse(JSON.parse(text));
  }

  /** Adds or replaces a host; returns whether it was new. */
  async put(host: Host): Promise<boolean> {
    return (await this.redis.hset(this.key, host.name, JSON.stringify(host))) === 1;
  }

  async remove(name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, name)) === 1;
  }

  /** Upserts every host of an inventory file: the file is authoritative for the hosts it names. */
  async seed(hosts: readonly Host[]): Promise<number> {
    if (hosts.length === 0) return 0;
    await this.redis.hset(this.key, Object.fromEntries(hosts.map((h) => [h.name, JSON.stringify(h)])));
    return hosts.length;
  }
}

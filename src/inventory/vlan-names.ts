import type { Redis } from 'ioredis';

/** Human names of VLANs ("DMZ"), fleet-wide, set by ensureVlan: a Redis hash tag → name. */
export class VlanNames {
  private readonly key: string;
  private readonly redis: Redis;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:vlan-names`;
  }

  async set(tag: number, name: string): Promise<void> {
    await this.redis.hset(this.key, String(tag), name);
  }

  async all(): Promise<Map<number, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key)).map(([k, v]) => [Number(k), v]));
  }
}

import type { Redis } from 'ioredis';

/*
 * Host groups: named sets of hypervisors (a team's rack) that tokens can be limited to.
 *   <prefix>:auth:host-groups   hash: group name → the group as JSON
 * A group may name hypervisors that are not registered (yet): scope is about names, so whether
 * a host exists never changes what a caller is told about it.
 */

export interface HostGroup {
  name: string;
  description: string | null;
  hypervisors: string[];
  createdAt: string;
  updatedAt: string;
}

export class HostGroupStore {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:auth:host-groups`;
  }

  async put(group: HostGroup): Promise<void> {
    await this.redis.hset(this.key, group.name, JSON.stringify(group));
  }

  async get(name: string): Promise<HostGroup | null> {
    const raw = await this.redis.hget(this.key, name);
    return raw ? (JSON.parse(raw) as HostGroup) : null;
  }

  /** The groups of these names that exist (one round trip). */
  async many(names: readonly string[]): Promise<HostGroup[]> {
    if (names.length === 0) return [];
    const raws = await this.redis.hmget(this.key, ...names);
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as HostGroup);
  }

  async list(): Promise<HostGroup[]> {
    return Object.values(await this.redis.hgetall(this.key))
      .map((r) => JSON.parse(r) as HostGroup)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async delete(name: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, name)) === 1;
  }
}

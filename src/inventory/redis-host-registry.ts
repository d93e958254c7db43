import type { Redis } from 'ioredis';
import type { Host, HostRegistry } from './host-registry.ts';
import { InventoryHost } from './inventory-file.ts';

/** A stored record that does not validate (e.g. written by an older, less strict version). */
export interface InvalidHostRecord {
  /** The hash field it is stored under (the name it was registered with). */
  name: string;
  reason: string;
}

/** One stored record: the host, or why it is not one. */
function parseRecord(name: string, text: string): Host | InvalidHostRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { name, reason: `not valid JSON (${(err as Error).message})` };
  }
  const parsed = InventoryHost.safeParse(json);
  if (parsed.success) return parsed.data;
  return { name, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') };
}

/**
 * The host registry in Redis (a hash: name → host JSON), shared by all gateways and workers.
 * Hosts hold a private key *path*, never key material.
 *
 * A record that no longer validates (validation got stricter since it was stored) is left out
 * of list() and get(), instead of failing every read of the fleet; listInvalid() names it and
 * says why. Registering the host again, or removing the record, clears it.
 */
export class RedisHostRegistry implements HostRegistry {
  private readonly key: string;
  // Bumped by every write; readers re-read the hash only when it moved.
  private readonly revKey: string;
  private memo: { rev: string; hosts: Host[]; invalid: InvalidHostRecord[] } | undefined;

  private readonly redis: Redis;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:hosts`;
    this.revKey = `${prefix}:hosts-rev`;
  }

  /** Every host whose record validates, by name. */
  async list(): Promise<Host[]> {
    return (await this.read()).hosts;
  }

  /** The records list() and get() leave out because they do not validate, by name, with why. */
  async listInvalid(): Promise<InvalidHostRecord[]> {
    return (await this.read()).invalid;
  }

  private async read(): Promise<{ hosts: Host[]; invalid: InvalidHostRecord[] }> {
    const rev = await this.redis.get(this.revKey);
    if (rev !== null && this.memo?.rev === rev) return this.memo;
    const all = await this.redis.hgetall(this.key);
    const hosts: Host[] = [];
    const invalid: InvalidHostRecord[] = [];
    for (const [name, text] of Object.entries(all)) {
      const record = parseRecord(name, text);
      if ('reason' in record) invalid.push(record);
      else hosts.push(record);
    }
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    const read = { hosts: hosts.sort(byName), invalid: invalid.sort(byName) };
    this.memo = rev === null ? undefined : { rev, ...read };
    return read;
  }

  /** undefined: no such record; null: a record that does not validate (listInvalid says why). */
  async get(name: string): Promise<Host | null | undefined> {
    const text = await this.redis.hget(this.key, name);
    if (text === null) return undefined;
    const record = parseRecord(name, text);
    return 'reason' in record ? null : record;
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
    await this.redis
      .multi()
      .hset(this.key, Object.fromEntries(hosts.map((h) => [h.name, JSON.stringify(h)])))
      .incr(this.revKey)
      .exec();
    return hosts.length;
  }
}

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
// KEYS[1] the hosts hash, KEYS[2] its revision. ARGV: name, fingerprint ('' = none: trust on
// first use), expected ('' = pin a first key: only when none is pinned; else rotate: only when
// `expected` is pinned). Pin answers the pinned fingerprint; rotate 'ok' or 'conflict:<pinned>';
// false when there is no such host.
const PIN_LUA = `
local text = redis.call('HGET', KEYS[1], ARGV[1])
if not text then return false end
local host = cjson.decode(text)
local current = host.hostKeyFingerprint
if current == cjson.null then current = nil end
local function same(a, b) return a ~= nil and b ~= nil and string.gsub(a, '=+$', '') == string.gsub(b, '=+$', '') end
if ARGV[3] == '' then
  if current ~= nil then return current end
  host.hostKeyFingerprint = ARGV[2]
else
  if not same(current, ARGV[3]) then return 'conflict:' .. (current or '') end
  if ARGV[2] == '' then host.hostKeyFingerprint = cjson.null else host.hostKeyFingerprint = ARGV[2] end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(host))
redis.call('INCR', KEYS[2])
if ARGV[3] == '' then return ARGV[2] end
return 'ok'
`;

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
    redis.defineCommand('trunklinePinHostKey', { numberOfKeys: 2, lua: PIN_LUA });
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

  /**
   * Pins the host key a host presented first, when its record asks for trust on first use (its
   * fingerprint null): atomic, so two workers connecting at once pin one key. The fingerprint
   * pinned after the call (the given one, or the one another worker pinned first); null when
   * the host is not registered.
   */
  async pinHostKey(name: string, fingerprint: string): Promise<string | null> {
    return (await this.scripts.trunklinePinHostKey(this.key, this.revKey, name, fingerprint, '')) as string | null;
  }

  /**
   * Replaces a host's pinned key when the pinned one is `expected` (a key rotation): the new one,
   * or null to pin on first use again. 'changed' | 'conflict' (another is pinned: `current` says which) | 'unknown'.
   */
  async rotateHostKey(
    name: string,
    expected: string,
    next: string | null,
  ): Promise<{ result: 'changed' | 'conflict' | 'unknown'; current: string | null }> {
    const r = (await this.scripts.trunklinePinHostKey(this.key, this.revKey, name, next ?? '', expected)) as string | null;
    if (r === null) return { result: 'unknown', current: null };
    if (r.startsWith('conflict:')) return { result: 'conflict', current: r.slice('conflict:'.length) || null };
    return { result: 'changed', current: next };
  }

  private get scripts(): { trunklinePinHostKey(...args: string[]): Promise<unknown> } {
    return this.redis as unknown as { trunklinePinHostKey(...args: string[]): Promise<unknown> };
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

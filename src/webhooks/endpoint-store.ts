import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { StoredEndpoint, WebhookEndpoint } from './types.ts';

/*
 * Webhook endpoints in Redis: one hash, endpoint id → the endpoint as JSON (with its secret:
 * the worker signs with it, so whoever reads this Redis can forge deliveries; see docs/webhooks.md).
 * Few endpoints, read whole by the dispatcher for every batch of events, so a change (disabled,
 * new filter) takes effect with the next event. Updates are compare-and-set: two updates of one
 * endpoint never lose each other's fields.
 */

// KEYS[1] hash; ARGV: id, the JSON read before, the new JSON. 1 when replaced, 0 when it changed meanwhile.
const REPLACE_LUA = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

export const ENDPOINT_ID = /^ep_[0-9a-f]{20}$/;

export function newEndpointId(): string {
  return `ep_${randomBytes(10).toString('hex')}`;
}

/** The endpoint without its secret: what every API answer is built from. */
export function publicEndpoint(e: StoredEndpoint): WebhookEndpoint {
  const { secret: _secret, ...rest } = e;
  return rest;
}

export class EndpointStore {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:webhook:endpoints`;
    redis.defineCommand('trunklineReplaceEndpoint', { numberOfKeys: 1, lua: REPLACE_LUA });
  }

  async create(endpoint: StoredEndpoint): Promise<void> {
    await this.redis.hsetnx(this.key, endpoint.id, JSON.stringify(endpoint));
  }

  async get(id: string): Promise<StoredEndpoint | null> {
    if (!ENDPOINT_ID.test(id)) return null;
    const raw = await this.redis.hget(this.key, id);
    return raw ? (JSON.parse(raw) as StoredEndpoint) : null;
  }

  /** Every endpoint, oldest first. */
  async list(): Promise<StoredEndpoint[]> {
    const all = Object.values(await this.redis.hgetall(this.key)).map((v) => JSON.parse(v) as StoredEndpoint);
    return all.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /** Applies `change` to the endpoint as it is now (again if another update came between); null when it does not exist. */
  async update(id: string, change: (e: StoredEndpoint) => StoredEndpoint): Promise<StoredEndpoint | null> {
    for (;;) {
      const raw = ENDPOINT_ID.test(id) ? await this.redis.hget(this.key, id) : null;
      if (!raw) return null;
      const next = change(JSON.parse(raw) as StoredEndpoint);
      const replaced = await (this.redis as unknown as Scripts).trunklineReplaceEndpoint(this.key, id, raw, JSON.stringify(next));
      if (replaced === 1) return next;
    }
  }

  /** false when there was none. */
  async delete(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key, id)) === 1;
  }
}

interface Scripts {
  trunklineReplaceEndpoint(...args: string[]): Promise<number>;
}

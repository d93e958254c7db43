import type { Redis } from 'ioredis';
import type { DeliveryAttempt, DeliveryError, DeliveryStatus, WebhookDelivery } from './types.ts';

/*
 * The delivery history, per endpoint, in Redis:
 *   <prefix>:webhook:delivery:<id>                   a hash per delivery: head (JSON), body (the
 *                                                    signed payload, for retries and redelivers),
 *                                                    status, counters, attempt:<n> (JSON each)
 *   <prefix>:webhook:endpoint:<endpoint>:deliveries  a sorted set of its delivery ids (score: the
 *                                                    event's time), newest last
 * Bounded twice: an endpoint keeps its newest `historyLength` deliveries (older ones are deleted
 * when a new one comes) and every key expires `ttlSeconds` after it was made.
 */

// KEYS[1] record, KEYS[2] endpoint index. ARGV: id, score (ms), ttl, kept, record key prefix, field/value pairs...
// 1 when created; when it existed (a stream entry dispatched twice keeps its history): 2 while no
// attempt was made yet (its queueing may be what failed), 0 once one was.
const CREATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'attemptCount') == '0' and redis.call('HGET', KEYS[1], 'status') == 'PENDING' then return 2 end
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[2]) - tonumber(ARGV[3]) * 1000))
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do redis.call('DEL', ARGV[5] .. old) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
end
return 1
`;

// KEYS[1] record. ARGV: attempt JSON, status, last code, last error JSON, now, deliveredAt, nextAttemptAt, attempts kept.
// The attempt's number, or false when the record is gone (expired, trimmed, endpoint deleted).
const ATTEMPT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = redis.call('HINCRBY', KEYS[1], 'attemptCount', 1)
redis.call('HSET', KEYS[1], 'attempt:' .. n, ARGV[1], 'status', ARGV[2], 'lastResponseCode', ARGV[3], 'lastError', ARGV[4],
  'updatedAt', ARGV[5], 'nextAttemptAt', ARGV[7])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'deliveredAt', ARGV[6]) end
local drop = n - tonumber(ARGV[8])
if drop > 0 then redis.call('HDEL', KEYS[1], 'attempt:' .. drop) end
return n
`;

// KEYS[1] record. ARGV: claimant (a batch job's id). The body to send when the claimant may make
// the delivery's first attempt: it exists, no attempt was recorded, and no other batch claimed it
// (a stream entry dispatched twice can put one delivery in two batches; a batch run again after
// an error claims its own deliveries again). False otherwise.
const CLAIM_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'attemptCount') ~= '0' or redis.call('HGET', KEYS[1], 'status') ~= 'PENDING' then return false end
local claimant = redis.call('HGET', KEYS[1], 'claim')
if claimant and claimant ~= ARGV[1] then return false end
if not claimant then redis.call('HSET', KEYS[1], 'claim', ARGV[1]) end
return redis.call('HGET', KEYS[1], 'body')
`;

// KEYS[1] record. ARGV: now. The redelivery's number, or false when the record is gone.
const REDELIVER_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = redis.call('HINCRBY', KEYS[1], 'redeliveries', 1)
redis.call('HSET', KEYS[1], 'status', 'PENDING', 'nextAttemptAt', '', 'updatedAt', ARGV[1])
return n
`;

// KEYS[1] record. ARGV: status, last error JSON, now. Ends a delivery without an attempt.
const SETTLE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'lastError', ARGV[2], 'updatedAt', ARGV[3], 'nextAttemptAt', '')
return 1
`;

// KEYS[1] record. ARGV: claimant. Gives a claim up (a batch that failed for good), so another batch may claim the delivery.
const RELEASE_CLAIM_LUA = `
if redis.call('HGET', KEYS[1], 'claim') == ARGV[1] then return redis.call('HDEL', KEYS[1], 'claim') end
return 0
`;

/** Attempts kept per delivery (the newest); the count goes on. */
const ATTEMPTS_KEPT = 100;

/** The delivery id of an event to an endpoint: the `webhook-id` of every attempt, and the BullMQ job id. */
export function deliveryIdOf(endpointId: string, sequence: string): string {
  return `msg_${endpointId.replace(/^ep_/, '')}_${sequence}`;
}

export const DELIVERY_ID = /^msg_[0-9a-f]{20}_\d+-\d+$/;

export type NewDelivery = Pick<WebhookDelivery, 'id' | 'endpointId' | 'sequence' | 'jobId' | 'jobEventType' | 'type'> & {
  /** The payload JSON, exactly as it is signed and sent. */
  body: string;
};

type Head = Pick<WebhookDelivery, 'id' | 'endpointId' | 'sequence' | 'jobId' | 'jobEventType' | 'type' | 'createdAt'>;

export interface DeliveryStoreOptions {
  prefix: string;
  historyLength: number;
  ttlSeconds: number;
}

const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);

/** A delivery from its hash fields; null when it has none (expired). */
export function assembleDelivery(fields: Record<string, string>): WebhookDelivery | null {
  if (!fields.head) return null;
  const head = JSON.parse(fields.head) as Head;
  const attempts = Object.entries(fields)
    .filter(([k]) => k.startsWith('attempt:'))
    .map(([k, v]) => ({ attempt: Number(k.slice(8)), ...(JSON.parse(v) as Omit<DeliveryAttempt, 'attempt'>) }))
    .sort((a, b) => a.attempt - b.attempt);
  const code = orNull(fields.lastResponseCode);
  const lastError = orNull(fields.lastError);
  return {
    ...head,
    status: (fields.status ?? 'PENDING') as DeliveryStatus,
    attemptCount: Number(fields.attemptCount ?? 0),
    lastResponseCode: code === null ? null : Number(code),
    lastError: lastError === null ? null : (JSON.parse(lastError) as DeliveryError),
    updatedAt: fields.updatedAt ?? head.createdAt,
    deliveredAt: orNull(fields.deliveredAt),
    nextAttemptAt: orNull(fields.nextAttemptAt),
    redeliveries: Number(fields.redeliveries ?? 0),
    attempts,
  };
}

export class DeliveryStore {
  private readonly redis: Redis;
  private readonly options: DeliveryStoreOptions;

  constructor(redis: Redis, options: DeliveryStoreOptions) {
    this.redis = redis;
    this.options = options;
    redis.defineCommand('trunklineCreateDelivery', { numberOfKeys: 2, lua: CREATE_LUA });
    redis.defineCommand('trunklineDeliveryAttempt', { numberOfKeys: 1, lua: ATTEMPT_LUA });
    redis.defineCommand('trunklineClaimDelivery', { numberOfKeys: 1, lua: CLAIM_LUA });
    redis.defineCommand('trunklineRedeliver', { numberOfKeys: 1, lua: REDELIVER_LUA });
    redis.defineCommand('trunklineSettleDelivery', { numberOfKeys: 1, lua: SETTLE_LUA });
    redis.defineCommand('trunklineReleaseDeliveryClaim', { numberOfKeys: 1, lua: RELEASE_CLAIM_LUA });
  }

  private recordPrefix(): string {
    return `${this.options.prefix}:webhook:delivery:`;
  }
  private recordKey(id: string): string {
    return `${this.recordPrefix()}${id}`;
  }
  private indexKey(endpointId: string): string {
    return `${this.options.prefix}:webhook:endpoint:${endpointId}:deliveries`;
  }
  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  /**
   * Records a new PENDING delivery (and trims the endpoint's history). Whether it must be queued:
   * true when it is new, or existed without any attempt (the dispatcher that recorded it may have
   * died before queueing it; queueing one that is queued already adds nothing: same job id).
   */
  async create(d: NewDelivery, now = new Date().toISOString()): Promise<boolean> {
    const head: Head = {
      id: d.id,
      endpointId: d.endpointId,
      sequence: d.sequence,
      jobId: d.jobId,
      jobEventType: d.jobEventType,
      type: d.type,
      createdAt: now,
    };
    const score = d.sequence.split('-')[0] ?? '0';
    const created = await this.scripts.trunklineCreateDelivery(
      this.recordKey(d.id),
      this.indexKey(d.endpointId),
      d.id,
      score,
      String(this.options.ttlSeconds),
      String(this.options.historyLength),
      this.recordPrefix(),
      ...['head', JSON.stringify(head), 'body', d.body, 'status', 'PENDING', 'attemptCount', '0', 'updatedAt', now],
    );
    return created !== 0;
  }

  /**
   * Adds an attempt and the delivery's status after it. Returns the attempt's number, or null
   * when the delivery is gone (expired, trimmed, its endpoint deleted).
   */
  async recordAttempt(
    id: string,
    attempt: Omit<DeliveryAttempt, 'attempt'>,
    after: { status: DeliveryStatus; nextAttemptAt: string | null },
  ): Promise<number | null> {
    const n = await this.scripts.trunklineDeliveryAttempt(
      this.recordKey(id),
      JSON.stringify(attempt),
      after.status,
      attempt.responseCode === null ? '' : String(attempt.responseCode),
      attempt.error ? JSON.stringify(attempt.error) : '',
      attempt.at,
      after.status === 'SUCCEEDED' ? attempt.at : '',
      after.nextAttemptAt ?? '',
      String(ATTEMPTS_KEPT),
    );
    return n === null ? null : Number(n);
  }

  /** Marks a delivery PENDING again for a manual redeliver; its number (1, 2, …), or null when it is gone. */
  async startRedelivery(id: string): Promise<number | null> {
    const n = await this.scripts.trunklineRedeliver(this.recordKey(id), new Date().toISOString());
    return n === null ? null : Number(n);
  }

  /** Ends a delivery without sending it (its endpoint was disabled or became not allowed meanwhile). */
  async settle(id: string, status: DeliveryStatus, error: DeliveryError): Promise<void> {
    await this.scripts.trunklineSettleDelivery(this.recordKey(id), status, JSON.stringify(error), new Date().toISOString());
  }

  async get(id: string): Promise<WebhookDelivery | null> {
    return assembleDelivery(await this.redis.hgetall(this.recordKey(id)));
  }

  /**
   * Claims deliveries for their first attempt by one batch job (one round trip: a script per
   * record, pipelined, so the records may live on any cluster slot): the body of each one this
   * claimant may send, null for those it may not (gone, attempted already, another batch's).
   */
  async claim(ids: readonly string[], claimant: string): Promise<(string | null)[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) (pipeline as unknown as Scripts).trunklineClaimDelivery(this.recordKey(id), claimant);
    const results = (await pipeline.exec()) ?? [];
    return ids.map((_, i) => {
      const [err, body] = results[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return typeof body === 'string' ? body : null;
    });
  }

  /**
   * Of `ids`, those still waiting for their first attempt (PENDING, none made), with the claim a
   * batch put on them: what a batch that failed for good left undelivered.
   */
  async unattempted(ids: readonly string[]): Promise<{ id: string; claim: string | null }[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.recordKey(id), 'status', 'attemptCount', 'claim');
    const results = (await pipeline.exec()) ?? [];
    return ids.flatMap((id, i) => {
      const [err, fields] = results[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      const [status, attempts, claim] = fields as (string | null)[];
      return status === 'PENDING' && attempts === '0' ? [{ id, claim: claim ?? null }] : [];
    });
  }

  /** Gives up `claimant`'s claim on a delivery; false when it holds none there. */
  async releaseClaim(id: string, claimant: string): Promise<boolean> {
    return (await this.scripts.trunklineReleaseDeliveryClaim(this.recordKey(id), claimant)) === 1;
  }

  /** The payload a delivery signs and sends; null when it is gone. */
  async body(id: string): Promise<string | null> {
    return this.redis.hget(this.recordKey(id), 'body');
  }

  /**
   * An endpoint's deliveries, newest first, after the delivery `cursor` (exclusive), keeping
   * those of `status` if given, at most `limit`.
   */
  async list(
    endpointId: string,
    page: { limit: number; cursor?: string | null; status?: DeliveryStatus | null },
  ): Promise<{ deliveries: WebhookDelivery[]; more: boolean }> {
    const key = this.indexKey(endpointId);
    let start = 0;
    if (page.cursor) {
      const rank = await this.redis.zrevrank(key, page.cursor);
      if (rank === null) return { deliveries: [], more: false };
      start = rank + 1;
    }
    const out: WebhookDelivery[] = [];
    const BATCH = 200;
    for (;;) {
      const ids = await this.redis.zrevrange(key, start, start + BATCH - 1);
      if (ids.length === 0) return { deliveries: out, more: false };
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.recordKey(id));
      const results = (await pipeline.exec()) ?? [];
      const gone: string[] = [];
      for (const [i, [err, fields]] of results.entries()) {
        const d = err ? null : assembleDelivery(fields as Record<string, string>);
        if (!d) {
          gone.push(ids[i]!);
          continue;
        }
        if (page.status && d.status !== page.status) continue;
        if (out.length === page.limit) return { deliveries: out, more: true };
        out.push(d);
      }
      // Records expire on their own; their index entries go when a reader meets them.
      if (gone.length) await this.redis.zrem(key, ...gone);
      start += BATCH - gone.length;
    }
  }

  /** Deletes an endpoint's whole history. */
  async deleteEndpoint(endpointId: string): Promise<void> {
    const key = this.indexKey(endpointId);
    const ids = await this.redis.zrange(key, 0, -1);
    for (let i = 0; i < ids.length; i += 500) await this.redis.del(...ids.slice(i, i + 500).map((id) => this.recordKey(id)));
    await this.redis.del(key);
  }
}

interface Scripts {
  trunklineCreateDelivery(...args: string[]): Promise<number>;
  trunklineDeliveryAttempt(...args: string[]): Promise<number | null>;
  trunklineClaimDelivery(...args: string[]): Promise<string | null>;
  trunklineRedeliver(...args: string[]): Promise<number | null>;
  trunklineSettleDelivery(...args: string[]): Promise<number>;
  trunklineReleaseDeliveryClaim(...args: string[]): Promise<number>;
}

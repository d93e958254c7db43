import type { Redis } from 'ioredis';
import type { JobEvent, JobEventType, JobRecord } from './job-types.ts';

/*
 * Appends one job event and stores the job record, atomically, then tells every gateway.
 *   KEYS[1] job record (string, JSON)      KEYS[2] job event stream
 *   KEYS[3] job index (zset, score = creation time in ms)
 *   ARGV[1] record JSON   ARGV[2] event JSON (without id)   ARGV[3] pub/sub channel
 *   ARGV[4] ttl seconds   ARGV[5] stream max length         ARGV[6] job id
 *   ARGV[7] index score, or '' to leave the index alone (also drops index entries older than the ttl)
 * Returns the event's stream id.
 */
const APPEND_EVENT_LUA = `
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
  -- Index entries of jobs whose records expired go too.
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (tonumber(ARGV[7]) - tonumber(ARGV[4]) * 1000))
end
redis.call('PUBLISH', ARGV[3], ARGV[6] .. ' ' .. id .. ' ' .. ARGV[2])
return id
`;

const MAX_EVENTS_PER_JOB = 10_000;

export interface JobStoreOptions {
  prefix: string;
  ttlSeconds: number;
}

type EventBody = Omit<JobEvent, 'id' | 'jobId' | 'state' | 'progress' | 'error'> & Partial<Pick<JobEvent, 'error'>>;

/**
 * Job records and their event logs in Redis: the single source of truth for job state, shared
 * by every gateway and worker. The BullMQ job only carries the id.
 */
export class JobStore {
  readonly channel: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: JobStoreOptions,
  ) {
    this.channel = `${options.prefix}:job-events`;
    redis.defineCommand('trunklineAppendJobEvent', { numberOfKeys: 3, lua: APPEND_EVENT_LUA });
  }

  private recordKey(id: string): string {
    return `${this.options.prefix}:job:${id}`;
  }
  private eventsKey(id: string): string {
    return `${this.options.prefix}:job:${id}:events`;
  }
  private indexKey(): string {
    return `${this.options.prefix}:jobs`;
  }

  /** Stores a new job with its QUEUED event. */
  create(record: JobRecord, message: string): Promise<JobEvent> {
    return this.append(record, { type: 'QUEUED', at: record.createdAt, step: null, message }, Date.parse(record.createdAt));
  }

  /** Stores the record as it is now and appends an event describing what just happened. */
  record(record: JobRecord, type: JobEventType, message: string, step: JobEvent['step'] = null): Promise<JobEvent> {
    return this.append(record, { type, at: new Date().toISOString(), step, message });
  }

  private async append(record: JobRecord, body: EventBody, indexScore?: number): Promise<JobEvent> {
    const event = { ...body, jobId: record.id, state: record.state, progress: record.progress, error: record.error };
    const payload = JSON.stringify(event);
    const id = (await (this.redis as unknown as AppendCommand).trunklineAppendJobEvent(
      this.recordKey(record.id),
      this.eventsKey(record.id),
      this.indexKey(),
      JSON.stringify(record),
      payload,
      this.channel,
      String(this.options.ttlSeconds),
      String(MAX_EVENTS_PER_JOB),
      record.id,
      indexScore === undefined ? '' : String(indexScore),
    )) as string;
    return { id, ...event };
  }

  private cancelKey(id: string): string {
    return `${this.options.prefix}:job:${id}:cancel`;
  }

  /**
   * Asks the worker running a job to stop before its next step. A flag of its own, not a field
   * of the record: the worker rewrites the record with every event.
   */
  async requestCancel(id: string): Promise<void> {
    await this.redis.set(this.cancelKey(id), '1', 'EX', this.options.ttlSeconds);
  }

  async cancelRequested(id: string): Promise<boolean> {
    return (await this.redis.exists(this.cancelKey(id))) === 1;
  }

  async get(id: string): Promise<JobRecord | null> {
    const text = await this.redis.get(this.recordKey(id));
    return text === null ? null : (JSON.parse(text) as JobRecord);
  }

  /** The job's events after `afterId` (exclusive), oldest first. */
  async events(jobId: string, afterId?: string): Promise<JobEvent[]> {
    const start = afterId ? `(${afterId}` : '-';
    const entries = await this.redis.xrange(this.eventsKey(jobId), start, '+');
    return entries.map(([id, fields]) => ({ id, ...(JSON.parse(fields[1] ?? '{}') as Omit<JobEvent, 'id'>) }));
  }

  /**
   * Jobs newest first, after the job `afterId` (exclusive), keeping those `keep` accepts, at
   * most `limit`. Reads records in batches; ranks are looked up each call, so jobs created
   * meanwhile do not shift the page.
   */
  async list(options: { afterId?: string | null; limit: number; keep?: (job: JobRecord) => boolean }): Promise<{ jobs: JobRecord[]; more: boolean }> {
    const { limit, keep = () => true } = options;
    let start = 0;
    if (options.afterId) {
      const rank = await this.redis.zrevrank(this.indexKey(), options.afterId);
      if (rank === null) return { jobs: [], more: false };
      start = rank + 1;
    }
    const jobs: JobRecord[] = [];
    const BATCH = 200;
    for (;;) {
      const ids = await this.redis.zrevrange(this.indexKey(), start, start + BATCH - 1);
      if (ids.length === 0) return { jobs, more: false };
      const texts = await this.redis.mget(...ids.map((id) => this.recordKey(id)));
      for (const text of texts) {
        if (!text) continue;
        const job = JSON.parse(text) as JobRecord;
        if (!keep(job)) continue;
        if (jobs.length === limit) return { jobs, more: true };
        jobs.push(job);
      }
      start += BATCH;
    }
  }

  /** Parses a pub/sub message published by the append script. */
  static parseMessage(message: string): JobEvent | null {
    const first = message.indexOf(' ');
    const second = message.indexOf(' ', first + 1);
    if (first < 0 || second < 0) return null;
    try {
      return { id: message.slice(first + 1, second), ...(JSON.parse(message.slice(second + 1)) as Omit<JobEvent, 'id'>) };
    } catch {
      return null;
    }
  }
}

interface AppendCommand {
  trunklineAppendJobEvent(...args: string[]): Promise<unknown>;
}

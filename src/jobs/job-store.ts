import type { Redis } from 'ioredis';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import {
  isTerminal,
  pendingHostRun,
  type HostRun,
  type JobEvent,
  type JobEventType,
  type JobRecord,
  type RollbackRecord,
  type StepRecord,
} from './job-types.ts';

/*
 * A job record is a Redis hash, so that the workers running different hosts of one job (BullMQ
 * children, maybe in different processes) each write only their own part:
 *   head          the job without steps, rollback, hosts, state and startedAt (JSON)
 *   state         the job's state           startedAt   when the first host started
 *   host:<name>   that host's HostPart (JSON: its run, steps and rollback)
 *   done:<name>   how many of that host's steps finished (progress without parsing JSON)
 * Every write appends an event to the job's stream and publishes it, in the same script.
 */

/*
 * Whole record (one writer: submit, cancel of a queued job, jobs that run in one piece, a flow's
 * parent once its children are done).
 *   KEYS[1] record hash   KEYS[2] event stream   KEYS[3] job index (zset, score = created ms)
 *   KEYS[4] fleet event log (every job's events, one stream: its ids are `sequence`)
 *   KEYS[5] the VLAN's last verification (hash jobId, finishedAt) when ARGV[8] is set, else the record again
 *   ARGV[1] event JSON    ARGV[2] channel        ARGV[3] ttl seconds   ARGV[4] stream max length
 *   ARGV[5] job id        ARGV[6] index score or '' (also drops index entries older than the ttl)
 *   ARGV[7] fleet log max length
 *   ARGV[8] finishedAt of a verifyVlan's end (it becomes its VLAN's last verification unless a
 *           verification that finished later is there already), or ''
 *   ARGV[9..] field, value pairs
 */
const WRITE_RECORD_LUA = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[8] ~= '' then
  local known = redis.call('HGET', KEYS[5], 'finishedAt')
  if not known or known <= ARGV[8] then
    redis.call('HSET', KEYS[5], 'jobId', ARGV[5], 'finishedAt', ARGV[8])
    redis.call('EXPIRE', KEYS[5], ARGV[3])
  end
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (tonumber(ARGV[6]) - tonumber(ARGV[3]) * 1000))
end
local seq = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'j', ARGV[5], 'i', id, 'e', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[5] .. ' ' .. id .. ' ' .. seq .. ' ' .. ARGV[1])
return { id, seq }
`;

/*
 * One host's part. The first part to start moves the job from QUEUED to RUNNING (and emits the
 * job's STARTED event); a part that only waits for its turn leaves the job QUEUED. The event's
 * progress counts finished steps across all hosts.
 *   KEYS[1] record hash   KEYS[2] event stream
 *   ARGV[1] host field    ARGV[2] part JSON       ARGV[3] done field   ARGV[4] done count
 *   ARGV[5] event JSON up to the done count       ARGV[6] event JSON after it
 *   ARGV[7] channel       ARGV[8] ttl seconds     ARGV[9] stream max length   ARGV[10] job id
 *   ARGV[11] STARTED event JSON   ARGV[12] now (startedAt)   ARGV[13] '1': the part runs
 *   ARGV[14] fleet log max length   ARGV[15] fencing token or ''   ARGV[16..] every host's done field
 *   KEYS[3] fleet event log          KEYS[4] the host lock the token must still be in (fenced writes)
 * Returns { event id, done, STARTED event id or false, sequence }, false when the record is gone,
 * the string 'LOCK_LOST' when the write was fenced and the lock holds another token (or none),
 * or 'stale' when the writer's part is no longer the part: the job ended, the stored part ended,
 * or it counts more attempts than the writer's (another worker took the part over since the
 * writer read it: a worker that slept while it waited for its turn or the host lock, unfenced).
 */
const WRITE_HOST_LUA = `
if ARGV[15] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[15] then return 'LOCK_LOST' end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
local ended = { SUCCEEDED = true, FAILED = true, CANCELLED = true }
if ended[state] then return 'stale' end
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then
  local run = cjson.decode(stored).run or {}
  local mine = cjson.decode(ARGV[2]).run or {}
  if ended[run.state] or (tonumber(run.attempts) or 0) > (tonumber(mine.attempts) or 0) then return 'stale' end
end
local started = false
if state == 'QUEUED' and ARGV[13] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'RUNNING')
  redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[12])
  started = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'e', ARGV[11])
  local seq0 = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[14], '*', 'j', ARGV[10], 'i', started, 'e', ARGV[11])
  redis.call('PUBLISH', ARGV[7], ARGV[10] .. ' ' .. started .. ' ' .. seq0 .. ' ' .. ARGV[11])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local done = 0
for _, n in ipairs(redis.call('HMGET', KEYS[1], unpack(ARGV, 16))) do
  if n then done = done + tonumber(n) end
end
local event = ARGV[5] .. done .. ARGV[6]
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'e', event)
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('EXPIRE', KEYS[2], ARGV[8])
local seq = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[14], '*', 'j', ARGV[10], 'i', id, 'e', event)
redis.call('PUBLISH', ARGV[7], ARGV[10] .. ' ' .. id .. ' ' .. seq .. ' ' .. event)
return { id, done, started, seq }
`;

const MAX_EVENTS_PER_JOB = 10_000;
/** Events kept in the fleet log (about; trimmed in whole nodes): how far back a notifier can resume. */
const FLEET_LOG_LENGTH = 100_000;

export interface JobStoreOptions {
  prefix: string;
  ttlSeconds: number;
  /** Events kept in the fleet log (default 100,000). */
  fleetLogLength?: number;
  /** Told after a write succeeded (metrics and log lines; what they throw is ignored). */
  events?: JobStoreEvents;
}

export interface JobStoreEvents {
  /** A new job was stored (its QUEUED record). */
  created?(record: JobRecord): void;
  /** A job's record was written with its end state (SUCCEEDED, FAILED, CANCELLED): once per job. */
  ended?(record: JobRecord): void;
}

/** One host's share of a job record, as stored. */
export interface HostPart {
  run: HostRun;
  steps: StepRecord[];
  rollback: RollbackRecord[];
}

type Head = Omit<JobRecord, 'steps' | 'rollback' | 'hosts' | 'state' | 'startedAt'>;
type EventBody = Pick<JobEvent, 'type' | 'at' | 'step' | 'message'> & Partial<Pick<JobEvent, 'error' | 'host'>>;

const isDone = (s: StepRecord) => s.state === 'SUCCEEDED' || s.state === 'FAILED';

/**
 * What the end of a verifyVlan job makes its VLAN's last verification: the tag and when it
 * ended, for a job that ended SUCCEEDED or FAILED with a verification (a cancelled one proved
 * nothing; one that failed before it pinged has none). null for any other record.
 */
export function verificationEnd(record: JobRecord): { tag: number; finishedAt: string } | null {
  if (record.kind !== 'verifyVlan' || !record.verification || !record.finishedAt) return null;
  if (record.state !== 'SUCCEEDED' && record.state !== 'FAILED') return null;
  return { tag: record.verification.tag, finishedAt: record.finishedAt };
}

/** Splits a whole record into its parts, one per host named by `hypervisors` or a step. */
export function partsOf(record: JobRecord): Map<string, HostPart> {
  const parts = new Map<string, HostPart>();
  const part = (host: string) => {
    let p = parts.get(host);
    if (!p) {
      p = { run: record.hosts?.find((h) => h.host === host) ?? pendingHostRun(host), steps: [], rollback: [] };
      parts.set(host, p);
    }
    return p;
  };
  for (const h of record.hypervisors) part(h);
  for (const s of record.steps) part(s.host).steps.push(s);
  for (const r of record.rollback) part(r.host).rollback.push(r);
  return parts;
}

/** Puts a record back together from its hash fields. */
export function assembleRecord(fields: Record<string, string>): JobRecord | null {
  if (!fields.head || !fields.state) return null;
  const head = JSON.parse(fields.head) as Head;
  const parts = Object.entries(fields)
    .filter(([k]) => k.startsWith('host:'))
    .map(([, v]) => JSON.parse(v) as HostPart);
  const order = new Map(head.hypervisors.map((h, i) => [h, i]));
  parts.sort((a, b) => (order.get(a.run.host) ?? Infinity) - (order.get(b.run.host) ?? Infinity));
  // In index order: the submitted plan's order (steps a part added when it planned again at
  // execution have indexes beyond the submitted plan's, so they come last; Job.hosts lists each
  // host's steps on their own).
  const steps = parts.flatMap((p) => p.steps).sort((a, b) => a.index - b.index);
  const hosts = parts.filter((p) => order.has(p.run.host)).map((p) => p.run);
  const state = fields.state as JobRecord['state'];
  // While hosts run, the freshest thing any of them said is the job's message.
  const said = hosts.filter((h) => h.updatedAt !== null);
  const latest = state === 'RUNNING' && said.length ? said.reduce((a, b) => (a.updatedAt! >= b.updatedAt! ? a : b)) : null;
  return {
    ...head,
    state,
    startedAt: fields.startedAt ?? null,
    steps,
    rollback: parts.flatMap((p) => p.rollback),
    hosts,
    attempts: Math.max(head.attempts, ...hosts.map((h) => h.attempts)),
    progress: {
      done: steps.filter(isDone).length,
      total: steps.length,
      message: latest ? `${latest.host}: ${latest.message}` : head.progress.message,
    },
  };
}

/**
 * Job records and their event logs in Redis: the single source of truth for job state, shared
 * by every gateway and worker. The BullMQ job only carries the id.
 */
/** An entry of the fleet event log (`j` job id, `i` the event's id in its job's log, `e` its JSON) as a JobEvent; null when it is none. */
export function parseFleetEntry([sequence, fields]: [string, string[] | null]): JobEvent | null {
  if (!fields) return null;
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  try {
    return { ...(JSON.parse(f.e ?? '') as Omit<JobEvent, 'id' | 'sequence'>), id: f.i ?? '', sequence };
  } catch {
    return null;
  }
}

export class JobStore {
  readonly channel: string;

  private readonly redis: Redis;
  private readonly options: JobStoreOptions;

  constructor(redis: Redis, options: JobStoreOptions) {
    this.redis = redis;
    this.options = options;
    this.channel = `${options.prefix}:job-events`;
    redis.defineCommand('trunklineWriteJob', { numberOfKeys: 5, lua: WRITE_RECORD_LUA });
    redis.defineCommand('trunklineWriteJobHost', { numberOfKeys: 4, lua: WRITE_HOST_LUA });
  }

  private recordKey(id: string): string {
    return `${this.options.prefix}:job:${id}:record`;
  }
  private eventsKey(id: string): string {
    return `${this.options.prefix}:job:${id}:events`;
  }
  private indexKey(): string {
    return `${this.options.prefix}:jobs`;
  }
  /** Every job's events in one stream, in the order they happened: what notifiers resume from. */
  private fleetLogKey(): string {
    return `${this.options.prefix}:events`;
  }
  /**
   * A VLAN's last verification: the verifyVlan job that ended last with a verification of the
   * tag (hash jobId, finishedAt), written with that job's end; it expires with the job.
   */
  private lastVerificationKey(tag: number): string {
    return `${this.options.prefix}:vlan-verification:${tag}`;
  }

  /** Stores a new job with its QUEUED event. */
  async create(record: JobRecord, message: string): Promise<JobEvent> {
    const event = await this.write(record, { type: 'QUEUED', at: record.createdAt, step: null, message }, Date.parse(record.createdAt));
    this.tell('created', record);
    return event;
  }

  /** Stores the whole record as it is now and appends an event describing what just happened. */
  async record(record: JobRecord, type: JobEventType, message: string, step: JobEvent['step'] = null): Promise<JobEvent> {
    const event = await this.write(record, { type, at: new Date().toISOString(), step, message, host: step?.host ?? null });
    // Its end: the event that names the state the record ends in (each end is written once, by one writer).
    if (type === record.state && isTerminal(record.state)) this.tell('ended', record);
    return event;
  }

  private tell(what: keyof JobStoreEvents, record: JobRecord): void {
    try {
      this.options.events?.[what]?.(record);
    } catch {
      // Metrics and logs never fail a write that was made.
    }
  }

  private async write(record: JobRecord, body: EventBody, indexScore?: number): Promise<JobEvent> {
    const event: Omit<JobEvent, 'id'> = {
      jobId: record.id,
      kind: record.kind,
      ticketRef: record.ticketRef,
      type: body.type,
      at: body.at,
      state: record.state,
      host: body.host ?? null,
      step: body.step,
      progress: record.progress,
      message: body.message,
      error: body.error ?? record.error,
    };
    const payload = JSON.stringify(event);
    const { steps: _s, rollback: _r, hosts: _h, state, startedAt, ...head } = record;
    const fields: string[] = ['head', JSON.stringify(head), 'state', state];
    if (startedAt) fields.push('startedAt', startedAt);
    for (const [host, part] of partsOf(record))
      fields.push(`host:${host}`, JSON.stringify(part), `done:${host}`, String(part.steps.filter(isDone).length));
    const verified = body.type === record.state ? verificationEnd(record) : null;
    const [id, sequence] = (await (this.redis as unknown as Scripts).trunklineWriteJob(
      this.recordKey(record.id),
      this.eventsKey(record.id),
      this.indexKey(),
      this.fleetLogKey(),
      // Every key a script touches is passed as a key: without a verification, the record again.
      verified ? this.lastVerificationKey(verified.tag) : this.recordKey(record.id),
      payload,
      this.channel,
      String(this.options.ttlSeconds),
      String(MAX_EVENTS_PER_JOB),
      record.id,
      indexScore === undefined ? '' : String(indexScore),
      String(this.options.fleetLogLength ?? FLEET_LOG_LENGTH),
      verified?.finishedAt ?? '',
      ...fields,
    )) as [string, string];
    return { id, sequence, ...event };
  }

  /**
   * Stores one host's part of a running job and appends an event about it. `job` gives the
   * job's id, its hosts and its step count (from the record the worker loaded).
   * Returns null when the record is gone (expired), or when an unfenced write is no longer the
   * writer's to make (the job or the part ended, or another worker took the part over: 'stale').
   */
  async recordHost(
    job: Pick<JobRecord, 'id' | 'hypervisors' | 'steps' | 'kind' | 'ticketRef'>,
    part: HostPart,
    type: JobEventType,
    message: string,
    step: StepRecord | null = null,
    /** Total steps of the job when this host's part has been planned again (its own count may differ). */
    totalSteps = job.steps.length,
    /** Write only while this lock still holds this token (the host lease of the part's worker); else LOCK_LOST is thrown. */
    fence: { lockKey: string; token: string } | null = null,
  ): Promise<JobEvent | null> {
    const at = new Date().toISOString();
    const total = totalSteps;
    const host = part.run.host;
    // A part that waits for its turn has not started: the job stays QUEUED.
    const runs = part.run.state !== 'PENDING';
    const rest = {
      jobId: job.id,
      kind: job.kind,
      ticketRef: job.ticketRef,
      type,
      at,
      state: runs ? ('RUNNING' as const) : ('QUEUED' as const),
      host,
      step,
      message,
      error: part.run.error,
    };
    // The done count is filled in by the script, from every host's counter.
    const before = '{"progress":{"done":';
    const after = `,"total":${total},"message":${JSON.stringify(message)}},${JSON.stringify(rest).slice(1)}`;
    const startedEvent: Omit<JobEvent, 'id'> = {
      jobId: job.id,
      kind: job.kind,
      ticketRef: job.ticketRef,
      type: 'STARTED',
      at,
      state: 'RUNNING',
      host: null,
      step: null,
      progress: { done: 0, total, message: 'started' },
      message: 'started',
      error: null,
    };
    const res = (await (this.redis as unknown as Scripts).trunklineWriteJobHost(
      this.recordKey(job.id),
      this.eventsKey(job.id),
      this.fleetLogKey(),
      // Unfenced writes name the record again: every key a script touches is passed as a key.
      fence?.lockKey ?? this.recordKey(job.id),
      `host:${host}`,
      JSON.stringify(part),
      `done:${host}`,
      String(part.steps.filter(isDone).length),
      before,
      after,
      this.channel,
      String(this.options.ttlSeconds),
      String(MAX_EVENTS_PER_JOB),
      job.id,
      JSON.stringify(startedEvent),
      at,
      runs ? '1' : '0',
      String(this.options.fleetLogLength ?? FLEET_LOG_LENGTH),
      fence?.token ?? '',
      ...job.hypervisors.map((h) => `done:${h}`),
    )) as [string, number, string | null, string] | 'LOCK_LOST' | 'stale' | null;
    if (res === 'LOCK_LOST')
      throw new TrunklineError(ErrorCode.LOCK_LOST, `${host}: the host lock was lost; this worker's record of the part was not written`, {
        host,
      });
    // A lease holder's part cannot be stale (taking a part over needs its host lock): stop it all the same.
    if (res === 'stale' && fence)
      throw new TrunklineError(
        ErrorCode.LOCK_LOST,
        `${host}: the part was taken over or ended elsewhere; this worker's record of the part was not written`,
        { host },
      );
    // Unfenced (the part waits for its turn or the host lock): dropped; the worker finds out when it takes the lock.
    if (!res || res === 'stale') return null;
    return { id: res[0], sequence: res[3], ...rest, progress: { done: Number(res[1]), total, message } };
  }

  /**
   * Reserves `count` step indexes no other part of the job uses, for steps a part planned at
   * execution beyond those it was given (indexes of the submitted plan are 0..planLength-1).
   */
  async reserveStepIndexes(jobId: string, planLength: number, count: number): Promise<number> {
    const res = await this.redis
      .multi()
      .hsetnx(this.recordKey(jobId), 'nextIndex', String(planLength))
      .hincrby(this.recordKey(jobId), 'nextIndex', count)
      .exec();
    const end = Number(res?.[1]?.[1]);
    return end - count;
  }

  private cancelKey(id: string): string {
    return `${this.options.prefix}:job:${id}:cancel`;
  }

  /**
   * Asks the workers running a job to stop before their next step. A flag of its own, not a
   * field of the record: workers rewrite their parts of the record with every event.
   */
  async requestCancel(id: string): Promise<void> {
    await this.redis.set(this.cancelKey(id), '1', 'EX', this.options.ttlSeconds);
  }

  async cancelRequested(id: string): Promise<boolean> {
    return (await this.redis.exists(this.cancelKey(id))) === 1;
  }

  /**
   * A job's state and one host's part state, without assembling the record (two hash fields,
   * whatever the job's size): what a host part waiting behind it needs. null when the record is gone.
   */
  async hostPartState(
    id: string,
    host: string,
  ): Promise<{ state: JobRecord['state']; part: HostRun['state'] | null; createdAt: string } | null> {
    const [state, part, head] = await this.redis.hmget(this.recordKey(id), 'state', `host:${host}`, 'head');
    if (!state || !head) return null;
    const createdAt = (JSON.parse(head) as Head).createdAt;
    return { state: state as JobRecord['state'], part: part ? (JSON.parse(part) as HostPart).run.state : null, createdAt };
  }

  async get(id: string): Promise<JobRecord | null> {
    return assembleRecord(await this.redis.hgetall(this.recordKey(id)));
  }

  /**
   * The VLAN's last verification: the verifyVlan job that, of those still kept, ended last
   * (SUCCEEDED or FAILED) with a verification of `tag`. null when there is none.
   */
  async lastVerification(tag: number): Promise<JobRecord | null> {
    const jobId = await this.redis.hget(this.lastVerificationKey(tag), 'jobId');
    const job = jobId ? await this.get(jobId) : null;
    return job?.verification?.tag === tag ? job : null;
  }

  /** The record a worker is about to run: it must exist (a queue entry outlived its record, or never had one). */
  async require(id: string): Promise<JobRecord> {
    const record = await this.get(id);
    if (!record) throw new TrunklineError(ErrorCode.JOB_INVALID, `job ${id} has no record (expired or never created)`);
    return record;
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
  async list(options: {
    afterId?: string | null;
    limit: number;
    keep?: (job: JobRecord) => boolean;
  }): Promise<{ jobs: JobRecord[]; more: boolean }> {
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
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.recordKey(id));
      const results = (await pipeline.exec()) ?? [];
      for (const [err, fields] of results) {
        const job = err ? null : assembleRecord(fields as Record<string, string>);
        if (!job || !keep(job)) continue;
        if (jobs.length === limit) return { jobs, more: true };
        jobs.push(job);
      }
      start += BATCH;
    }
  }

  /** Ids of jobs created in [fromMs, toMs] (the index's scores), oldest first. */
  async idsCreatedBetween(fromMs: number, toMs: number, limit = 1000): Promise<string[]> {
    return this.redis.zrangebyscore(this.indexKey(), fromMs, toMs, 'LIMIT', 0, limit);
  }

  /** Parses a pub/sub message published by the scripts above. */
  static parseMessage(message: string): JobEvent | null {
    // "<job id> <event id> <sequence> <event JSON>"
    const first = message.indexOf(' ');
    const second = message.indexOf(' ', first + 1);
    const third = message.indexOf(' ', second + 1);
    if (first < 0 || second < 0 || third < 0) return null;
    try {
      const body = JSON.parse(message.slice(third + 1)) as Omit<JobEvent, 'id' | 'sequence'>;
      return { id: message.slice(first + 1, second), sequence: message.slice(second + 1, third), ...body };
    } catch {
      return null;
    }
  }

  /** Events of every job after `after` (a sequence; the start of the log when omitted), oldest first. */
  async fleetEvents(after: string | null, count = 500): Promise<JobEvent[]> {
    const entries = (await this.redis.xrange(this.fleetLogKey(), after ? `(${after}` : '-', '+', 'COUNT', count)) as [string, string[]][];
    return entries.flatMap((entry) => parseFleetEntry(entry) ?? []);
  }

  /** The sequence of the newest event in the fleet log ('0-0' when it is empty). */
  async lastSequence(): Promise<string> {
    const [last] = (await this.redis.xrevrange(this.fleetLogKey(), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last?.[0] ?? '0-0';
  }
}

interface Scripts {
  trunklineWriteJob(...args: string[]): Promise<unknown>;
  trunklineWriteJobHost(...args: string[]): Promise<unknown>;
}

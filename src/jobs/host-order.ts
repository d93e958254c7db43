import type { Redis } from 'ioredis';
import type { JobKind } from './job-kinds.ts';

/*
 * The order in which jobs were accepted, per hypervisor. Accepting a job takes one ticket from
 * a deployment-wide sequence and enters the job, scored by it, in a sorted set per host it
 * touches. A host part may run only while its job is the first entry of its host's set; it
 * leaves the set when it ends. One sequence for all hosts gives every host the same relative
 * order, so a job that needs several hosts at once (verifyVlan) waits for each in turn and
 * never deadlocks with another. The sets live in Redis with everything else, so the order
 * survives worker deaths and (with persistence) Redis restarts.
 *   KEYS[1] sequence   KEYS[2..] the hosts' sets   ARGV[1] job id
 * Returns the ticket. NX: accepting the same job again keeps its first place.
 */
const ACCEPT_LUA = `
local seq = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('ZADD', KEYS[i], 'NX', seq, ARGV[1]) end
return seq
`;

/** Reading hosts needs no turn: a refresh may run alongside changes (each host read is atomic enough). */
const UNORDERED_KINDS: ReadonlySet<JobKind> = new Set<JobKind>(['refreshHypervisor']);

/** Whether a job kind's host parts wait for the jobs accepted before it on their hosts. */
export function takesTurns(kind: JobKind): boolean {
  return !UNORDERED_KINDS.has(kind);
}

export interface Place {
  /** 0: the job's turn on this host; n: n jobs accepted earlier are still ahead of it. */
  ahead: number;
  /** The job whose turn it is on this host (the first entry), null if none. */
  first: string | null;
  /** The job right ahead of this one, null when it is first. */
  previous: string | null;
}

/**
 * Per-host FIFO of accepted jobs (see the script above). The gateway accepts; workers wait
 * for their turn and release it.
 */
export class HostOrder {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    redis.defineCommand('trunklineAcceptJob', { lua: ACCEPT_LUA });
    redis.defineCommand('trunklinePlace', { numberOfKeys: 1, lua: PLACE_LUA });
  }

  private key(host: string): string {
    return `${this.prefix}:order:host:${host}`;
  }

  /** Gives the job its place on each host, after every job accepted before it. */
  async accept(jobId: string, hosts: readonly string[]): Promise<number> {
    const keys = [`${this.prefix}:order:seq`, ...[...new Set(hosts)].map((h) => this.key(h))];
    const seq = await (this.redis as unknown as Scripts).trunklineAcceptJob(keys.length, ...keys, jobId);
    return Number(seq);
  }

  /** Where the job stands on a host; null when it holds no place there (released, or accepted before ordering existed). */
  async place(jobId: string, host: string): Promise<Place | null> {
    const res = await (this.redis as unknown as Scripts).trunklinePlace(this.key(host), jobId);
    if (!res) return null;
    return { ahead: Number(res[0]), first: res[1] || null, previous: res[2] || null };
  }

  /** The next `count` jobs in line on a host, first first. */
  async next(host: string, count: number): Promise<string[]> {
    return this.redis.zrange(this.key(host), 0, count - 1);
  }

  /** Gives up the job's places (idempotent): the next job on each host may go. */
  async release(jobId: string, hosts: readonly string[]): Promise<void> {
    if (!hosts.length) return;
    const pipeline = this.redis.pipeline();
    for (const h of new Set(hosts)) pipeline.zrem(this.key(h), jobId);
    await pipeline.exec();
  }
}

/*
 * Where a job stands on one host.
 *   KEYS[1] the host's set   ARGV[1] job id
 * Returns { rank, first job, job right ahead ('' when first) }, or false when not in the set.
 */
const PLACE_LUA = `
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return false end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
local previous = ''
if rank > 0 then previous = redis.call('ZRANGE', KEYS[1], rank - 1, rank - 1)[1] end
return { rank, first, previous }
`;

interface Scripts {
  trunklinePlace(key: string, jobId: string): Promise<[number, string, string] | null>;
  trunklineAcceptJob(numKeys: number, ...args: string[]): Promise<unknown>;
}

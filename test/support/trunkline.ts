import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CHANGE_QUEUE } from '../../src/jobs/change-queue.ts';
import { useToken } from './credentials.ts';
import { freePort } from './free-port.ts';
import { gql } from './graphql-client.ts';
import { startProcess, type Proc } from './processes.ts';
import { type TokenInput, tokenIssuer } from './tokens.ts';

/**
 * A gateway and a worker as real processes on a private key prefix, and their cleanup:
 * processes stopped, the queue obliterated, every key of the prefix deleted. Authentication is
 * on, with a pepper of its own and an admin token (created as the token command does) that the
 * test clients send to this gateway (credentials.ts).
 */
export interface Trunkline {
  url: string;
  /** tl_<id>_<secret> of an admin of every host. */
  adminToken: string;
  /** Creates another token (as `npm run token -- create` does); its tl_<id>_<secret>. */
  issueToken(input: TokenInput): Promise<string>;
  prefix: string;
  env: Record<string, string>;
  redis: Redis;
  queue: Queue;
  gateway: Proc;
  worker: Proc | undefined;
  startWorker(): Promise<Proc>;
  stop(): Promise<void>;
}

export async function startTrunkline(opts: {
  redisUrl: string;
  inventoryPath: string;
  env?: Record<string, string>;
  worker?: boolean;
}): Promise<Trunkline> {
  const prefix = `tl-test-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const env: Record<string, string> = {
    TRUNKLINE_AUTH_PEPPER: randomBytes(32).toString('hex'),
    // Tests poll and burst far above what one client should: the rate limits are tested apart (security.test.ts).
    TRUNKLINE_RATE_CHANGES_PER_MINUTE: '100000',
    TRUNKLINE_RATE_READS_PER_MINUTE: '100000',
    TRUNKLINE_RATE_UNAUTHENTICATED_PER_MINUTE: '100000',
    TRUNKLINE_REDIS_URL: opts.redisUrl,
    TRUNKLINE_PREFIX: prefix,
    TRUNKLINE_INVENTORY: opts.inventoryPath,
    TRUNKLINE_SSH_CONNECT_TIMEOUT_MS: '3000',
    // Tests refresh explicitly unless they test the scheduler.
    TRUNKLINE_REFRESH_INTERVAL_SECONDS: '0',
    ...opts.env,
  };
  const redis = new Redis(opts.redisUrl);
  const queue = new Queue(CHANGE_QUEUE, { connection: { url: opts.redisUrl }, prefix });
  // Tests that stop Redis on purpose: the reconnects are expected, not news.
  redis.on('error', () => {});
  queue.on('error', () => {});
  const authOn = env.TRUNKLINE_AUTH_MODE !== 'off';
  const issue = tokenIssuer(redis, prefix, env.TRUNKLINE_AUTH_PEPPER!);
  const tl: Trunkline = {
    url: `http://127.0.0.1:${port}/graphql`,
    adminToken: '',
    issueToken: issue,
    prefix,
    env,
    redis,
    queue,
    gateway: undefined as unknown as Proc,
    worker: undefined,
    async startWorker() {
      tl.worker = await startProcess('workers/main.ts', env, 'worker ready');
      return tl.worker;
    },
    async stop() {
      await tl.worker?.stop();
      await tl.gateway?.stop();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
  try {
    if (authOn) {
      tl.adminToken = await tl.issueToken({ name: 'test-admin', role: 'admin' });
      useToken(tl.url, tl.adminToken);
    }
    tl.gateway = await startProcess('gateway/main.ts', { ...env, TRUNKLINE_LISTEN_PORT: String(port) }, 'gateway listening');
    if (opts.worker !== false) await tl.startWorker();
  } catch (err) {
    await tl.stop();
    throw err;
  }
  return tl;
}

/** Polls job(id:) until the job ends (bounded); returns the job with the requested fields. */
export async function waitForJob(url: string, id: string, fields: string, deadlineMs = 60_000): Promise<any> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const res = await gql(url, `query($id: ID!) { job(id: $id) { state ${fields} } }`, { id });
    const job = res.data?.job;
    if (job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state)) return job;
    if (Date.now() > until) throw new Error(`job ${id} still ${job?.state} after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A Trunkline entry point (gateway or worker) as a real child process for benchmarks, started
 * the way test/support/processes.ts starts it (`node ENTRY` in the repository
 * root) but ready when a probe says so rather than when a log line appears: benchmarks run the
 * processes at TRUNKLINE_LOG_LEVEL=warn, where the info-level "ready" lines are not printed.
 * Its stop is registered as a cleanup action as soon as it is spawned; it is stopped by its own
 * pid (SIGTERM, SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createChangeQueue } from '../../src/jobs/change-queue.ts';
import { freePort } from '../../test/support/free-port.ts';
import { useToken } from '../../test/support/credentials.ts';
import { gql } from '../../test/support/graphql-client.ts';
import { stopChild } from '../../test/support/processes.ts';
import { tokenIssuer } from '../../test/support/tokens.ts';
import { onCleanup } from './cleanup.ts';
import { onPrefixCleanup } from './redis-server.ts';
import { ROOT } from './results.ts';

const KEEP_OUTPUT_CHARS = 64 * 1024;

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  /** The last 64 KiB of stdout + stderr. */
  output(): string;
  stop(): Promise<void>;
}

export function spawnTrunkline(name: string, entry: string, env: Record<string, string>): BenchProcess {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > KEEP_OUTPUT_CHARS) out = out.slice(-KEEP_OUTPUT_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let stopping = false;
  child.once('exit', (code, signal) => {
    // Exit 0 without our stop: a Ctrl-C in the terminal reached the child too (it shuts down cleanly).
    if (!stopping && code !== 0)
      console.error(`[${name}] exited unexpectedly (code ${code}, signal ${signal}); last output:\n${out.slice(-4000)}`);
  });
  const stop = async () => {
    stopping = true;
    await stopChild(child);
  };
  onCleanup(`stop ${name} (pid ${child.pid})`, stop);
  return { name, child, output: () => out, stop };
}

/** Polls `ready()` every 100 ms until it returns true; fails if the process exits or time runs out. */
export async function waitUntilReady(proc: BenchProcess, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(`${proc.name} exited (code ${proc.child.exitCode}) before becoming ready:\n${proc.output().slice(-4000)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready after ${timeoutMs} ms:\n${proc.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface BenchDeployment {
  /** The GraphQL endpoint of the gateway. */
  url: string;
  /** An admin token of every host, which the test clients send to this gateway (test/support/credentials.ts). */
  adminToken: string;
  /** The environment the processes run with (another process of the deployment starts from it). */
  env: Record<string, string>;
  prefix: string;
  gateway: BenchProcess;
  workers: BenchProcess[];
}

/**
 * A private Trunkline on `redisUrl`: a random key prefix (deleted afterwards), the real gateway
 * and two real workers (NODE_ENV=production, log level warn, no scheduled refresh), returned
 * once the gateway answers and both workers listen on the queue.
 */
export async function startBenchDeployment(opts: {
  redisUrl: string;
  inventoryPath: string;
  /** Told how many keys of the prefix were deleted at cleanup. */
  report?: (deleted: number, left: number, prefix: string) => void;
}): Promise<BenchDeployment> {
  const prefix = `tl-bench-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 });
  const queue = createChangeQueue({ url: opts.redisUrl, maxRetriesPerRequest: null }, prefix);
  onCleanup('redis connections', () => Promise.allSettled([queue.close(), redis.quit()]));
  // Registered before the processes start, so it runs after they stopped (cleanups run newest first).
  onPrefixCleanup(redis, queue, prefix, opts.report && ((deleted, left) => opts.report!(deleted, left, prefix)));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  const pepper = randomBytes(32).toString('hex');
  const env = {
    TRUNKLINE_AUTH_PEPPER: pepper,
    // Benchmarks drive the gateway far above one client's rate limit: counted, never reached.
    TRUNKLINE_RATE_CHANGES_PER_MINUTE: '1000000',
    TRUNKLINE_RATE_READS_PER_MINUTE: '1000000',
    TRUNKLINE_REDIS_URL: opts.redisUrl,
    TRUNKLINE_PREFIX: prefix,
    TRUNKLINE_INVENTORY: opts.inventoryPath,
    TRUNKLINE_LISTEN_PORT: String(port),
    TRUNKLINE_REFRESH_INTERVAL_SECONDS: '0',
    NODE_ENV: 'production',
    TRUNKLINE_LOG_LEVEL: 'warn',
  };
  const adminToken = await tokenIssuer(redis, prefix, pepper)({ name: 'bench-admin', role: 'admin' });
  useToken(url, adminToken);
  const gateway = spawnTrunkline('gateway', 'gateway/main.ts', env);
  const workers = [spawnTrunkline('worker-1', 'workers/main.ts', env), spawnTrunkline('worker-2', 'workers/main.ts', env)];
  await waitUntilReady(gateway, async () => (await gql(url, '{ __typename }')).data?.__typename === 'Query');
  for (const w of workers) await waitUntilReady(w, async () => (await queue.getWorkersCount()) >= workers.length);
  return { url, adminToken, env, prefix, gateway, workers };
}

import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { loadConfig } from '../src/config/config.ts';
import { HostStateCache } from '../src/hosts/host-state-cache.ts';
import type { HostState } from '../src/hosts/host-state.ts';
import { RedisHostRegistry } from '../src/inventory/redis-host-registry.ts';
import { seedRegistryFromFile } from '../src/inventory/seed-registry.ts';
import {
  CHANGE_QUEUE,
  createChangeQueue,
  HOST_STEPS,
  hostOfChildKey,
  REFRESH_FLEET,
  scheduleFleetRefresh,
  type ChangeJobData,
} from '../src/jobs/change-queue.ts';
import { RedisHostLocks } from '../src/jobs/host-locks.ts';
import { HostOrder } from '../src/jobs/host-order.ts';
import type { Host } from '../src/inventory/host-registry.ts';
import { CHANGE_JOB_KINDS, type ChangeJobKind, isChangeJobKind, type JobKind } from '../src/jobs/job-kinds.ts';
import { logJobEnd } from '../src/jobs/job-log.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { createLogger, type Logger } from '../src/log/logger.ts';
import { listenForScrapes } from '../src/metrics/listener.ts';
import { collectProcessMetrics, joinExpositions } from '../src/metrics/registry.ts';
import { workerMetrics, workerRegistry } from '../src/metrics/worker.ts';
import { whenRedisServes } from '../src/redis/availability.ts';
import { connectRedis } from '../src/redis/connect.ts';
import { withLogContext } from '../src/ssh/log-context.ts';
import { SshPool } from '../src/ssh/ssh-pool.ts';
import { finishChangeJob } from './finish-change-job.ts';
import { NotYourTurn } from './host-turn.ts';
import { sweepOrphans } from './orphan-sweeper.ts';
import { readAlongFor, refreshHost, refreshHosts } from './refresh-hosts.ts';
import { PartInterrupted } from './interrupted.ts';
import { runHostPart } from './run-host-part.ts';
import { runRefreshJob } from './run-refresh-job.ts';
import { runVerifyJob } from './run-verify-job.ts';
import { startWebhookProcess } from './webhook-supervisor.ts';

/** How often a host part may be taken over (its worker stopped) before BullMQ gives up on it. */
const MAX_TAKE_OVERS = 2;

/** Worker process: takes jobs from BullMQ and runs them on hosts over SSH. */
const config = loadConfig();
const logger = createLogger('trunkline-worker', config.logLevel);
const redis = connectRedis(config.redisUrl, 'trunkline-worker-store');
collectProcessMetrics(workerRegistry);
workerMetrics.concurrency.set(config.worker.concurrency);
// Every job end this worker records is counted and logged (with the job's fields: src/jobs/job-log.ts).
const store = new JobStore(redis, {
  prefix: config.prefix,
  ttlSeconds: config.jobTtlSeconds,
  events: {
    ended: (record) => {
      workerMetrics.jobs.ended(record);
      logJobEnd(logger, record);
    },
  },
});
const cache = new HostStateCache(redis, config.prefix);
const registry = new RedisHostRegistry(redis, config.prefix);
// Startup steps wait for a Redis that is down or refuses writes (MISCONF, OOM, LOADING) instead of exiting.
const whenServing = <T>(what: string, step: () => Promise<T>) => whenRedisServes(what, step, (d, m) => logger.warn(d, m));
if (config.inventory.seed) await whenServing('seed the host registry', () => seedRegistryFromFile(registry, config.inventoryPath, logger));
// Hosts registered for trust on first use get the key they present first pinned in the registry.
const runner = new SshPool({ ...config.ssh, logger, pinHostKey: (host, fingerprint) => registry.pinHostKey(host.name, fingerprint) });
const locks = new RedisHostLocks(redis, config.prefix, config.worker.lockMs);
const refreshDeps = { runner, cache, logger, readTimeoutMs: Math.min(config.ssh.commandTimeoutMs, 20_000) };

const queue = createChangeQueue({ url: config.redisUrl, maxRetriesPerRequest: null }, config.prefix);
// Recorded on each BullMQ job it takes (processedBy) and on each attempt at a host part: which process ran what.
const workerName = `${hostname()}:${process.pid}`;
const turns = { order: new HostOrder(redis, config.prefix), store, queue };
const hostPartDeps = {
  store,
  runner,
  registry,
  locks,
  cache,
  turns,
  config,
  logger,
  readTimeoutMs: refreshDeps.readTimeoutMs,
  // The re-read after a part is the part's: its lines (and its SSH round trips') carry the part's fields.
  refresh: (h: Host, log?: Logger) =>
    refreshHost(log ? { ...refreshDeps, logger: log, runner: withLogContext(runner, log) } : refreshDeps, h).then(() => {}),
  readAlong: (h: Host, known: HostState) => readAlongFor(refreshDeps, h, known),
  worker: workerName,
};

/** BullMQ still has `job` on this worker: extending its lock with our token works only then. */
function claimOf(job: Job<ChangeJobData>, token: string | undefined) {
  return { stillOurs: async () => token !== undefined && (await job.extendLock(token, config.worker.lockMs)) === 1 };
}

/**
 * Runs a part that waits for its turn on a host; when it is not next in line it gives its worker
 * slot up: the BullMQ job is delayed (and promoted early by the part that hands the host over).
 */
async function yieldingTurn<T>(job: Job<ChangeJobData>, token: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof NotYourTurn)) throw err;
    await job.moveToDelayed(Date.now() + err.retryInMs, token);
    throw new DelayedError();
  }
}

/**
 * Runs a job that stops when its worker lost its host lease or claim (PartInterrupted). Still
 * ours: it runs again shortly, planned from the host. Not ours: the worker that has it goes on;
 * BullMQ refuses this worker's end of it (its token is no longer the job's).
 */
async function interruptible<T>(job: Job<ChangeJobData>, token: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof PartInterrupted)) throw err;
    if (!err.claimed) throw new UnrecoverableError(`taken over by another worker: ${err.reason}`);
    await job.moveToDelayed(Date.now() + 250, token);
    throw new DelayedError();
  }
}

type Processor = (job: Job<ChangeJobData>, token: string | undefined) => Promise<unknown>;

/** The Trunkline job a BullMQ job executes; every job but the fleet refresh has one. */
function trunklineJobId(job: Job<ChangeJobData>): string {
  const jobId = job.data.jobId;
  if (!jobId) throw new UnrecoverableError(`BullMQ job ${job.id} (${job.name}) has no Trunkline job id`);
  return jobId;
}

/** The parent of a change job's flow: every host part is done. */
const settleChangeJob: Processor = async (job) => {
  const jobId = trunklineJobId(job);
  const failures = new Map<string, string>();
  for (const [key, reason] of Object.entries(await job.getIgnoredChildrenFailures())) {
    const host = hostOfChildKey(key, jobId);
    if (host) failures.set(host, reason);
  }
  const record = await finishChangeJob({ store, logger, turns }, jobId, failures);
  // The record already says why; UnrecoverableError marks it failed in BullMQ too, without a retry.
  if (record.state === 'FAILED') throw new UnrecoverableError(record.error?.message ?? 'job failed');
  return { state: record.state };
};

/** What runs a BullMQ job, by its name: every job kind, plus the internal host part and fleet refresh. */
const PROCESSORS: Readonly<Record<JobKind | typeof HOST_STEPS | typeof REFRESH_FLEET, Processor>> = {
  ...(Object.fromEntries(CHANGE_JOB_KINDS.map((kind) => [kind, settleChangeJob])) as Record<ChangeJobKind, Processor>),
  verifyVlan: async (job, token) => {
    const jobId = trunklineJobId(job);
    const record = await interruptible(job, token, () =>
      yieldingTurn(job, token, () => runVerifyJob({ store, runner, registry, locks, logger, turns }, jobId, claimOf(job, token))),
    );
    return { state: record.state };
  },
  refreshHypervisor: async (job) => {
    const record = await runRefreshJob({ ...refreshDeps, store, registry }, trunklineJobId(job));
    return { state: record.state };
  },
  [HOST_STEPS]: async (job, token) => {
    const jobId = trunklineJobId(job);
    const host = job.data.host;
    if (!host) throw new UnrecoverableError(`BullMQ job ${job.id} has no host`);
    // A host failure is recorded and returned, not thrown: the parent settles the job.
    const state = await interruptible(job, token, () =>
      yieldingTurn(job, token, () => runHostPart(hostPartDeps, jobId, host, claimOf(job, token))),
    );
    return { host, state };
  },
  [REFRESH_FLEET]: async () => {
    const states = await refreshHosts(refreshDeps, await registry.list());
    return { hosts: states.length, unreachable: states.filter((s) => s.status !== 'REACHABLE').length };
  },
};

/**
 * How long a BullMQ job waited before a worker first took it (trunkline_queue_wait_seconds): not
 * a flow's parent (it waits for its children by design), nor a later take (after a delay or a stall).
 */
function observeQueueWait(job: Job<ChangeJobData>): void {
  if (job.attemptsStarted > 1 || isChangeJobKind(job.name)) return;
  const waitedMs = (job.processedOn ?? Date.now()) - job.timestamp - (job.delay ?? 0);
  workerMetrics.queueWait.observe({ name: job.name }, Math.max(0, waitedMs) / 1000);
}

const worker = new Worker<ChangeJobData>(
  CHANGE_QUEUE,
  async (job, token) => {
    const run = Object.hasOwn(PROCESSORS, job.name) ? PROCESSORS[job.name as keyof typeof PROCESSORS] : undefined;
    if (!run)
      throw new UnrecoverableError(
        `BullMQ job ${job.id} has an unknown name ${JSON.stringify(job.name)}: not a Trunkline job kind, ${HOST_STEPS} or ${REFRESH_FLEET}`,
      );
    // Only known names reach a label.
    observeQueueWait(job);
    workerMetrics.activeJobs.inc({ name: job.name });
    try {
      return await run(job, token);
    } finally {
      workerMetrics.activeJobs.dec({ name: job.name });
    }
  },
  {
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: config.prefix,
    concurrency: config.worker.concurrency,
    name: workerName,
    // A killed worker's job is taken over by another worker within lockMs + stalledInterval
    // (1.25 x TRUNKLINE_JOB_LOCK_MS: 12.5 s by default): its lock, renewed every lockMs / 2,
    // expires at most lockMs after the worker died, and the stalled check (one small script)
    // runs every lockMs / 4.
    lockDuration: config.worker.lockMs,
    stalledInterval: Math.max(250, Math.floor(config.worker.lockMs / 4)),
    // A part is taken over twice before BullMQ gives up on it (WORKER_FAILED): re-running a part
    // is safe (it plans from the host), and one Redis pause longer than the lock already counts as
    // a stall for every running part, so one more crash must not fail the job.
    maxStalledCount: MAX_TAKE_OVERS,
  },
);
worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
// Webhooks (dispatcher and deliveries) run in a child process at a lower CPU priority (or elsewhere).
const webhookProcess =
  config.webhooks.process === 'child'
    ? startWebhookProcess({ logger, nice: config.webhooks.nice, stopTimeoutMs: config.webhooks.timeoutMs + 5000 })
    : null;
await whenServing('schedule the fleet refresh', () => scheduleFleetRefresh(queue, config.inventory.refreshIntervalSeconds));
await webhookProcess?.ready;
// Said only of a webhook process this worker started.
if (!webhookProcess) workerRegistry.removeSingleMetric('trunkline_webhook_process_up');
await worker.waitUntilReady();
// Its own metrics and its webhook process's, on one port (docs/metrics.md).
const metricsListener = await listenForScrapes({
  host: config.metrics.host,
  port: config.metrics.workerPort,
  logger,
  async render() {
    const webhooks = webhookProcess ? await webhookProcess.scrape(2000) : null;
    if (webhookProcess) workerMetrics.webhookProcessUp.set(webhooks === null ? 0 : 1);
    return joinExpositions(await workerRegistry.metrics(), webhooks);
  },
});
logger.info(
  {
    queue: CHANGE_QUEUE,
    prefix: config.prefix,
    concurrency: config.worker.concurrency,
    refreshEverySeconds: config.inventory.refreshIntervalSeconds,
    metrics: metricsListener.url,
  },
  'worker ready',
);

// Jobs a gateway recorded but never queued (it died in between) end FAILED instead of waiting forever.
const sweepDeps = { redis, prefix: config.prefix, store, queue, order: turns.order, logger, ttlSeconds: config.jobTtlSeconds };
const sweeper = setInterval(() => {
  sweepOrphans(sweepDeps).catch((err: Error) => logger.warn({ err: err.message }, 'orphan sweep failed; tried again next time'));
}, config.worker.orphanSweepSeconds * 1000);
sweeper.unref();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'worker stopping');
  clearInterval(sweeper);
  // No new jobs; running host parts get the grace period to finish and release their host locks
  // and places. One that takes longer is left to BullMQ: its lock expires and another worker takes
  // it over (planning again from the host), as after a crash, but without the wait for a lock
  // still renewed: none is renewed once this process exits.
  const closing = worker.close();
  const inTime = await Promise.race([closing.then(() => true), sleep(config.shutdownGraceMs).then(() => false)]);
  if (!inTime)
    logger.warn({ graceMs: config.shutdownGraceMs }, 'worker stopping: running parts did not finish in time; they are taken over');
  await Promise.allSettled([inTime ? closing : worker.close(true), webhookProcess?.close()]);
  await Promise.allSettled([queue.close(), runner.close(), metricsListener.close()]);
  await redis.quit();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

import { UnrecoverableError, Worker } from 'bullmq';
import { loadConfig } from '../src/config/config.ts';
import { FileHostRegistry } from '../src/inventory/host-registry.ts';
import { InventoryFileSource } from '../src/inventory/inventory-file.ts';
import { CHANGE_QUEUE, type ChangeJobData } from '../src/jobs/change-queue.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { createLogger } from '../src/log/logger.ts';
import { connectRedis } from '../src/redis/connect.ts';
import { SshPool } from '../src/ssh/ssh-pool.ts';
import { HostLocks } from './host-locks.ts';
import { runChangeJob } from './run-change-job.ts';

/** Worker process: takes change jobs from BullMQ and runs them on hosts over SSH. */
const config = loadConfig();
const logger = createLogger('trunkline-worker', config.logLevel);
const redis = connectRedis(config.redisUrl, 'trunkline-worker-store');
const store = new JobStore(redis, { prefix: config.prefix, ttlSeconds: config.jobTtlSeconds });
const registry = new FileHostRegistry(new InventoryFileSource(config.inventoryPath));
const runner = new SshPool({ ...config.ssh, logger });
const locks = new HostLocks();

const worker = new Worker<ChangeJobData>(
  CHANGE_QUEUE,
  async (job) => {
    const record = await runChangeJob({ store, runner, registry, locks, logger }, job.data.jobId);
    // The record already says why; UnrecoverableError keeps BullMQ from retrying a host failure.
    if (record.state === 'FAILED') throw new UnrecoverableError(record.error?.message ?? 'job failed');
    return { state: record.state };
  },
  {
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: config.prefix,
    concurrency: config.worker.concurrency,
  },
);
worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
await worker.waitUntilReady();
logger.info({ queue: CHANGE_QUEUE, prefix: config.prefix, concurrency: config.worker.concurrency }, 'worker ready');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'worker stopping');
  // Let running jobs finish their current step; BullMQ re-queues anything left stalled.
  await worker.close();
  await runner.close();
  await redis.quit();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

import { createServer } from 'node:http';
import { loadConfig } from '../src/config/config.ts';
import { HostStateCache } from '../src/hosts/host-state-cache.ts';
import { RedisHostRegistry } from '../src/inventory/redis-host-registry.ts';
import { seedRegistryFromFile } from '../src/inventory/seed-registry.ts';
import { VlanNames } from '../src/inventory/vlan-names.ts';
import { ChangeQueue } from '../src/jobs/change-queue.ts';
import { HostOrder } from '../src/jobs/host-order.ts';
import { JobEventHub } from '../src/jobs/job-event-hub.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { createLogger } from '../src/log/logger.ts';
import { connectRedis } from '../src/redis/connect.ts';
import { createGateway } from './create-gateway.ts';
import { attachWebSocket } from './websocket.ts';

/** Gateway process: stateless HTTP front; everything it knows lives in Redis. It never SSHes: workers do. */
const config = loadConfig();
const logger = createLogger('trunkline-gateway', config.logLevel);
const redis = connectRedis(config.redisUrl, 'trunkline-gateway');
const subscriber = connectRedis(config.redisUrl, 'trunkline-gateway-events');
const store = new JobStore(redis, { prefix: config.prefix, ttlSeconds: config.jobTtlSeconds });
const hub = new JobEventHub(subscriber, store, logger);
const queue = new ChangeQueue({ url: config.redisUrl, maxRetriesPerRequest: null }, config.prefix);
const registry = new RedisHostRegistry(redis, config.prefix);
if (config.inventory.seed) await seedRegistryFromFile(registry, config.inventoryPath, logger);
const cache = new HostStateCache(redis, config.prefix);
const vlanNames = new VlanNames(redis, config.prefix);
const order = new HostOrder(redis, config.prefix);

await hub.start();
const gateway = createGateway({ config, registry, cache, store, queue, order, hub, vlanNames, logger });
const server = createServer(gateway);
const closeWebSocket = attachWebSocket(server, gateway);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.listen.port, config.listen.host, resolve);
});
const address = server.address();
const port = typeof address === 'object' && address ? address.port : config.listen.port;
const url = `http://${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${port}/graphql`;
logger.info({ url, websocket: url.replace(/^http/, 'ws'), prefix: config.prefix, inventory: config.inventoryPath }, 'gateway listening');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'gateway stopping');
  await closeWebSocket().catch(() => {});
  server.closeAllConnections();
  server.close();
  await Promise.allSettled([queue.close(), redis.quit(), subscriber.quit()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

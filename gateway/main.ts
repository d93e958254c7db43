import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { loadConfig } from '../src/config/config.ts';
import { seedRegistryFromFile } from '../src/inventory/seed-registry.ts';
import { withRequestNotes } from '../src/jobs/job-log.ts';
import { createLogger } from '../src/log/logger.ts';
import { whenRedisServes } from '../src/redis/availability.ts';
import { createGateway } from './create-gateway.ts';
import { connectGatewayServices } from './services.ts';
import { attachWebSocket } from './websocket.ts';
import { drainEventStreams } from '../rest/sse.ts';

/** Gateway process: stateless HTTP front; everything it knows lives in Redis. It never SSHes: workers do. */
const config = loadConfig();
const logger = createLogger('trunkline-gateway', config.logLevel);
const services = connectGatewayServices(config, logger);
// Startup waits for a Redis that is down or refuses writes, saying so, instead of exiting.
const whenServing = <T>(what: string, step: () => Promise<T>) => whenRedisServes(what, step, (d, m) => logger.warn(d, m));
if (config.inventory.seed)
  await whenServing('seed the host registry', () => seedRegistryFromFile(services.registry, config.inventoryPath, logger));
await whenServing('subscribe to job events', () => services.hub.start());
const gateway = createGateway(services);
// TLS when both files are configured (read once: a new certificate takes a restart).
const { tls } = config.listen;
// Each request runs with notes of its own: what the log line of a job it makes says (src/jobs/job-log.ts).
const handle = (req: IncomingMessage, res: ServerResponse) => withRequestNotes(() => gateway(req, res));
const server = tls ? createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handle) : createServer(handle);
// Idle keep-alive connections stay open longer than clients' and proxies' own idle timeouts (undici
// 4 s, load balancers 60 s): a server that closes first races a client sending on that socket,
// which then sees ECONNRESET.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
const closeWebSocket = attachWebSocket(server, gateway);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.listen.port, config.listen.host, resolve);
});
const address = server.address();
const port = typeof address === 'object' && address ? address.port : config.listen.port;
const url = `${tls ? 'https' : 'http'}://${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${port}/graphql`;
logger.info({ url, websocket: url.replace(/^http/, 'ws'), prefix: config.prefix, inventory: config.inventoryPath }, 'gateway listening');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'gateway stopping');
  // New connections are refused; streams end with a reconnect hint (clients resume on another
  // gateway without a gap); requests in flight get the grace period to finish.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const streams = drainEventStreams();
  await closeWebSocket().catch(() => {});
  server.closeIdleConnections();
  const inTime = await Promise.race([closed.then(() => true), sleep(config.shutdownGraceMs).then(() => false)]);
  server.closeAllConnections();
  logger.info({ signal, eventStreams: streams, inTime }, 'gateway stopped');
  await services.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

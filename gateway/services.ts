import { AuditLog } from '../src/audit/audit-log.ts';
import { RateLimiter } from '../src/limits/rate-limiter.ts';
import { Authenticator } from '../src/auth/authenticator.ts';
import { HostGroupStore } from '../src/auth/host-group-store.ts';
import { OidcVerifier } from '../src/auth/oidc.ts';
import { loadPepper } from '../src/auth/pepper.ts';
import { TokenStore } from '../src/auth/token-store.ts';
import type { Config } from '../src/config/config.ts';
import { HostStateCache } from '../src/hosts/host-state-cache.ts';
import { RedisHostRegistry } from '../src/inventory/redis-host-registry.ts';
import { VlanNames } from '../src/inventory/vlan-names.ts';
import { CHANGE_QUEUE, ChangeQueue } from '../src/jobs/change-queue.ts';
import { HostOrder } from '../src/jobs/host-order.ts';
import { JobEventHub } from '../src/jobs/job-event-hub.ts';
import { logJobAccepted, logJobEnd, noteIdempotencyKey, takeIdempotencyKey } from '../src/jobs/job-log.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import type { Logger } from '../src/log/logger.ts';
import { createGatewayMetrics, type Metered } from '../src/metrics/gateway.ts';
import { connectRedis, redisOptions } from '../src/redis/connect.ts';
import { type Claim, IdempotencyStore } from '../src/requests/idempotency.ts';
import { WEBHOOK_QUEUE } from '../src/webhooks/delivery-queue.ts';
import { createWebhooks } from '../src/webhooks/webhooks.ts';
import type { GatewayServices } from '../src/requests/request-context.ts';
import { OPERATIONS } from '../rest/operations/index.ts';
import { API_BASE } from '../rest/replies.ts';

/**
 * The idempotency store, noting the key a request claims for the log line of the job it makes
 * ('job accepted'; src/jobs/job-log.ts): both APIs claim their keys here.
 */
class NotingIdempotencyStore extends IdempotencyStore {
  override async claim(api: string, scope: string, key: string, fingerprint: string): Promise<Claim> {
    noteIdempotencyKey(key);
    return super.claim(api, scope, key, fingerprint);
  }
}

/**
 * Everything a gateway process shares between requests, connected to Redis: what
 * gateway/main.ts serves, and what benchmarks and tests build an in-process gateway from.
 * `close` ends the connections (the event hub's subscriber too).
 */
export function connectGatewayServices(
  config: Config,
  logger: Logger,
  name = 'trunkline-gateway',
): GatewayServices & Metered & { close(): Promise<void> } {
  // Before any connection: a gateway without its pepper refuses to start, naming the variable.
  const pepper = loadPepper(config.auth);
  // Requests fail fast when Redis cannot answer (503, nothing accepted) instead of hanging;
  // the subscriber keeps reconnecting for as long as it takes.
  const failFastMs = config.redisCommandTimeoutMs;
  const redis = connectRedis(config.redisUrl, name, { failFastMs });
  const subscriber = connectRedis(config.redisUrl, `${name}-events`);
  const metrics = createGatewayMetrics({
    restRoutes: OPERATIONS.map((op) => ({ operationId: op.operationId, method: op.method, path: `${API_BASE}${op.path}` })),
    restBase: API_BASE,
  });
  // The jobs this gateway accepts, and those it ends (a cancel before they started, a queue that
  // refused them), are counted and logged with the job's fields (src/jobs/job-log.ts).
  const store = new JobStore(redis, {
    prefix: config.prefix,
    ttlSeconds: config.jobTtlSeconds,
    events: {
      created: (record) => {
        metrics.jobAccepted(record);
        logJobAccepted(logger, record, takeIdempotencyKey());
      },
      ended: (record) => {
        metrics.jobEnded(record);
        logJobEnd(logger, record);
      },
    },
  });
  const bullConnection = { url: config.redisUrl, ...redisOptions(failFastMs) };
  const queue = new ChangeQueue(bullConnection, config.prefix);
  const webhooks = createWebhooks(redis, bullConnection, config.prefix, config.webhooks);
  const tokens = new TokenStore(redis, config.prefix);
  const authenticator = new Authenticator({
    mode: config.auth.mode,
    store: tokens,
    pepper,
    oidc: config.auth.oidc ? new OidcVerifier(config.auth.oidc) : null,
    onTouchError: (err) => logger.warn({ err: err.message }, 'could not record when a token was last used'),
  });
  if (config.auth.mode === 'off') logger.warn('authentication is off (TRUNKLINE_AUTH_MODE=off): every request is an admin of every host');
  const registry = new RedisHostRegistry(redis, config.prefix);
  const cache = new HostStateCache(redis, config.prefix);
  // Read when /metrics is scraped (src/metrics/collectors.ts).
  metrics.watch({
    queues: [
      { name: CHANGE_QUEUE, queue: queue.queue },
      { name: WEBHOOK_QUEUE, queue: webhooks.queue.queue },
    ],
    hosts: registry,
    cache,
    freshnessSeconds: config.inventory.freshnessSeconds,
  });
  return {
    config,
    logger,
    metrics,
    redis,
    store,
    queue,
    hub: new JobEventHub(subscriber, store, logger),
    registry,
    cache,
    vlanNames: new VlanNames(redis, config.prefix),
    order: new HostOrder(redis, config.prefix),
    idempotency: new NotingIdempotencyStore(redis, config.prefix, config.api.idempotencyTtlSeconds),
    webhooks,
    auth: { authenticator, tokens, hostGroups: new HostGroupStore(redis, config.prefix), pepper },
    audit: new AuditLog(redis, config.prefix, {
      ...config.audit,
      onWriteError: (err, entry) => logger.error({ err: err.message, operation: entry.operation }, 'could not write the audit log'),
    }),
    rates: new RateLimiter(redis, config.prefix, config.rates, logger),
    async close() {
      await Promise.allSettled([queue.close(), webhooks.close(), redis.quit(), subscriber.quit()]);
    },
  };
}

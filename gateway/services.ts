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
import { ChangeQueue } from '../src/jobs/change-queue.ts';
import { HostOrder } from '../src/jobs/host-order.ts';
import { JobEventHub } from '../src/jobs/job-event-hub.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import type { Logger } from '../src/log/logger.ts';
import { connectRedis, redisOptions } from '../src/redis/connect.ts';
import { IdempotencyStore } from '../src/requests/idempotency.ts';
import { createWebhooks } from '../src/webhooks/webhooks.ts';
import type { GatewayServices } from '../src/requests/request-context.ts';

/**
 * Everything a gateway process shares between requests, connected to Redis: what
 * gateway/main.ts serves, and what benchmarks and tests build an in-process gateway from.
 * `close` ends the connections (the event hub's subscriber too).
 */
export function connectGatewayServices(
  config: Config,
  logger: Logger,
  name = 'trunkline-gateway',
): GatewayServices & { close(): Promise<void> } {
  // Before any connection: a gateway without its pepper refuses to start, naming the variable.
  const pepper = loadPepper(config.auth);
  // Requests fail fast when Redis cannot answer (503, nothing accepted) instead of hanging;
  // the subscriber keeps reconnecting for as long as it takes.
  const failFastMs = config.redisCommandTimeoutMs;
  const redis = connectRedis(config.redisUrl, name, { failFastMs });
  const subscriber = connectRedis(config.redisUrl, `${name}-events`);
  const store = new JobStore(redis, { prefix: config.prefix, ttlSeconds: config.jobTtlSeconds });
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
  return {
    config,
    logger,
    redis,
    store,
    queue,
    hub: new JobEventHub(subscriber, store, logger),
    registry: new RedisHostRegistry(redis, config.prefix),
    cache: new HostStateCache(redis, config.prefix),
    vlanNames: new VlanNames(redis, config.prefix),
    order: new HostOrder(redis, config.prefix),
    idempotency: new IdempotencyStore(redis, config.prefix, config.api.idempotencyTtlSeconds),
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

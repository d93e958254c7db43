import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../log/logger.ts';

/*
 * Per-caller rate limits, counted in Redis (rate-limiter-flexible's atomic Lua), so they hold
 * across every gateway: changes (each change mutation or REST change) and reads (each GraphQL
 * query or subscription, each REST read) per token a minute, and refused credentials per client
 * address a minute. 0 turns a limit off. When Redis cannot answer, the request goes on (the
 * error is logged): the gateway could not do anything else for it either.
 */

export type RateClass = 'changes' | 'reads' | 'unauthenticated';

export interface RateLimits {
  changesPerMinute: number;
  readsPerMinute: number;
  unauthenticatedPerMinute: number;
}

const PER_CLASS: Record<RateClass, keyof RateLimits> = {
  changes: 'changesPerMinute',
  reads: 'readsPerMinute',
  unauthenticated: 'unauthenticatedPerMinute',
};

export class RateLimiter {
  private readonly limiters = new Map<RateClass, RateLimiterRedis>();
  private readonly logger: Logger;
  readonly limits: RateLimits;

  constructor(redis: Redis, prefix: string, limits: RateLimits, logger: Logger) {
    this.logger = logger;
    this.limits = limits;
    for (const [kind, setting] of Object.entries(PER_CLASS) as [RateClass, keyof RateLimits][]) {
      if (limits[setting] > 0)
        this.limiters.set(
          kind,
          new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:rate:${kind}`, points: limits[setting], duration: 60 }),
        );
    }
  }

  /** Takes `points` for `key`: null when allowed, else how long to wait before the next one fits. */
  async take(kind: RateClass, key: string, points = 1): Promise<{ retryAfterSeconds: number } | null> {
    const limiter = this.limiters.get(kind);
    if (!limiter) return null;
    try {
      await limiter.consume(key, points);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) return { retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      this.logger.warn({ err: (err as Error).message, kind }, 'rate limit not checked: Redis did not answer');
      return null;
    }
  }
}

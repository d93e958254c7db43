import { Redis } from 'ioredis';

export interface ConnectOptions {
  lazy?: boolean;
  /**
   * For request paths (the gateway): a command fails after one reconnect attempt or this many
   * ms, instead of waiting for Redis, so that a client hears 503 SERVICE_UNAVAILABLE quickly.
   * Without it (workers, BullMQ's blocking connections) commands wait for a reconnect.
   */
  failFastMs?: number;
}

/**
 * A Redis connection for Trunkline's own keys. By default `maxRetriesPerRequest: null`, what
 * BullMQ requires of connections it blocks on: commands wait for a reconnect instead of failing.
 */
export function connectRedis(url: string, name: string, options: ConnectOptions = {}): Redis {
  return new Redis(url, { ...redisOptions(options.failFastMs), connectionName: name, lazyConnect: options.lazy ?? false });
}

/** ioredis options of a connection that waits (no argument) or fails fast (see ConnectOptions.failFastMs). */
export function redisOptions(failFastMs?: number): { maxRetriesPerRequest: number | null; commandTimeout?: number } {
  return failFastMs ? { maxRetriesPerRequest: 1, commandTimeout: failFastMs } : { maxRetriesPerRequest: null };
}

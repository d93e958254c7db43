import { Redis } from 'ioredis';

/**
 * A Redis connection for Trunkline's own keys. `maxRetriesPerRequest: null` is what BullMQ
 * requires of connections it blocks on; commands wait for a reconnect instead of failing.
 */
export function connectRedis(url: string, name: string, options: { lazy?: boolean } = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: options.lazy ?? false });
}

import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import { startRedisServer as startPrivateRedis } from '../../test/support/redis-server.ts';
import { onCleanup } from './cleanup.ts';

/**
 * A private redis-server on a free loopback port, without persistence (as test/support/
 * global-setup.ts starts it). Its stop is registered as a cleanup action as soon as it runs,
 * so it ends with the benchmark whatever happens; nothing of it survives.
 */
export async function startRedisServer(): Promise<{ url: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const server = await startPrivateRedis();
  onCleanup('redis-server', server.stop);
  return server;
}

/**
 * Registers deletion of every key under `prefix` (and the queue's jobs) as a cleanup action;
 * `report` hears how many keys went and how many are left.
 */
export function onPrefixCleanup(
  redis: Redis,
  queue: { obliterate(opts: { force: boolean }): Promise<void> },
  prefix: string,
  report?: (deleted: number, left: number) => void,
): void {
  onCleanup('redis keys', async () => {
    await queue.obliterate({ force: true }).catch(() => {});
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    if (report) {
      const [, left] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      report(deleted, left.length);
    }
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../test/support/free-port.ts';
import { stopChild } from '../../test/support/processes.ts';
import { onCleanup } from './cleanup.ts';

/**
 * A private redis-server on a free loopback port, without persistence (as test/support/
 * global-setup.ts starts it). Its stop is registered as a cleanup action as soon as it is
 * spawned, so it ends with the benchmark whatever happens; nothing of it survives.
 */
export async function startRedisServer(): Promise<{ url: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stop = () => stopChild(proc);
  onCleanup('redis-server', stop);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // refused while the server starts: retried below
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { url, proc, stop };
    } catch {
      client.disconnect();
      if (Date.now() > deadline || proc.exitCode !== null) {
        await stop();
        throw new Error(`redis-server did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
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

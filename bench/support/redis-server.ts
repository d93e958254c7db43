import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../test/support/free-port.ts';
import { onCleanup } from './cleanup.ts';

/**
 * A private redis-server on a free loopback port, without persistence (as test/support/
 * global-setup.ts starts it). Its stop is registered as a cleanup action as soon as it is
 * spawned, so it ends with the benchmark whatever happens; nothing of it survives.
 */
export async function startRedisServer(): Promise<{ url: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
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

import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { stopChild } from './processes.ts';

export interface RedisServer {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A private redis-server on a loopback port (a free one unless given), ready when this
 * resolves. Without `dir` it persists nothing; with `dir` it keeps an append-only file there
 * (fsync on every write), so a server started again on the same dir comes back with the data.
 * `args`: more redis-server options.
 */
export async function startRedisServer(opts: { port?: number; dir?: string; args?: string[] } = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const persistence = opts.dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', opts.dir] : ['--appendonly', 'no'];
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, ...(opts.args ?? [])], {
    stdio: 'ignore',
  });
  const stop = () => stopChild(proc);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // refused while the server starts: retried below
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { url, port, proc, stop };
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

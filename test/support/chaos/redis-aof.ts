/**
 * A private redis-server with an append-only file (appendfsync everysec) in a temp dir, on a
 * fixed loopback port, that can be SIGKILLed and started again on the same port from its AOF,
 * and frozen (SIGSTOP) / thawed (SIGCONT) to make it unreachable for a while.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../free-port.ts';

export interface AofRedis {
  url: string;
  port: number;
  dir: string;
  pid(): number | undefined;
  /** SIGKILL: what was not yet fsynced (up to ~1 s with everysec) is lost. */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port and dir (it loads the AOF); resolves when it answers PING. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing is answered. */
  freeze(): void;
  thaw(): void;
  /** Stops the server for good and deletes the dir. */
  destroy(): Promise<void>;
}

export async function startAofRedis(): Promise<AofRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trunkline-chaos-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;

  const alive = () => proc !== undefined && proc.exitCode === null && proc.signalCode === null;

  async function start(): Promise<void> {
    if (alive()) return;
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--dir',
        dir,
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
        // PING answers even while the AOF loads (LOADING is an error on other commands): wait for a real read.
        await client.get('chaos:probe');
        client.disconnect();
        return;
      } catch {
        client.disconnect();
        if (Date.now() > deadline || !alive()) throw new Error(`redis-server did not start on port ${port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async function kill(): Promise<void> {
    const p = proc;
    if (!p || !alive()) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url,
    port,
    dir,
    pid: () => (alive() ? proc!.pid : undefined),
    kill,
    start,
    freeze: () => {
      if (alive()) proc!.kill('SIGSTOP');
    },
    thaw: () => {
      if (alive()) proc!.kill('SIGCONT');
    },
    destroy: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

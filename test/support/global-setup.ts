import { spawn, type ChildProcess } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { lab, type LabEnv } from './lab.ts';

/**
 * For the integration project: a private Redis server on a free loopback port and a
 * two-hypervisor lab of its own (LAB_NAME=tlt), both torn down afterwards, also after failures.
 */
export const TEST_LAB: LabEnv = {
  // Overridable so that two test runs on one machine do not share (and tear down) one lab.
  LAB_NAME: process.env.TRUNKLINE_TEST_LAB_NAME ?? 'tlt',
  LAB_NET: process.env.TRUNKLINE_TEST_LAB_NET ?? '1',
  LAB_HOSTS: '2',
};

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    inventoryPath: string;
    labEnv: LabEnv;
  }
}

async function startRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // refused while the server starts: expected, retried below
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { url, proc };
    } catch {
      client.disconnect();
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedis();
  const teardown = async () => {
    await lab(TEST_LAB, 'down').catch((err) => console.error('lab down failed', err));
    redis.proc.kill('SIGTERM');
  };
  try {
    await lab(TEST_LAB, 'down');
    await lab(TEST_LAB, 'up');
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide('redisUrl', redis.url);
  project.provide('inventoryPath', `/run/trunkline/lab-${TEST_LAB.LAB_NAME}/inventory.json`);
  project.provide('labEnv', TEST_LAB);
  return teardown;
}

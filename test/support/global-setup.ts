import type { TestProject } from 'vitest/node';
import { lab, type LabEnv } from './lab.ts';
import { startRedisServer } from './redis-server.ts';

/**
 * For the e2e project: a private Redis server on a free loopback port and a
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedisServer();
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

import { lab, type LabEnv } from '../../test/support/lab.ts';
import { onCleanup } from './cleanup.ts';

/**
 * Brings a benchmark's own lab up from scratch (a leftover of an interrupted run would carry
 * its VMs and ports) and registers its teardown, so it goes whatever happens.
 */
export async function freshLab(env: LabEnv, say: (message: string) => void): Promise<void> {
  await lab(env, 'down');
  onCleanup('lab down', async () => {
    say('lab down');
    await lab(env, 'down');
  });
  await lab(env, 'up');
}

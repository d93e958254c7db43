import { describe, expect, it } from 'vitest';
import { coalesced } from '../../ui/src/coalesce.ts';

describe('coalesced re-reads (ui/src/coalesce.ts)', () => {
  it('never overlaps runs; a burst of calls during a run is one more run after it', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const gates: Array<() => void> = [];
    const reload = coalesced(async () => {
      runs++;
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
    });
    void reload();
    for (let i = 0; i < 5; i++) void reload();
    expect(runs).toBe(1);
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    expect(most).toBe(1);
  });

  it('runs again after a run that threw', async () => {
    let runs = 0;
    const reload = coalesced(async () => {
      runs++;
      throw new Error('gateway down');
    });
    await expect(reload()).rejects.toThrow('gateway down');
    await expect(reload()).rejects.toThrow('gateway down');
    expect(runs).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { batchesOf, batchJobId, retryDelayMs } from '../../src/webhooks/delivery-queue.ts';
import { EndpointLanes } from '../../src/webhooks/endpoint-lanes.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `msg_0123456789abcdef0123_17000000000${i}-0`);

describe('webhook batches', () => {
  it("splits an endpoint's deliveries into batches of at most the limit, in order", () => {
    const all = ids(7);
    expect(batchesOf('ep_x', all, 3)).toEqual([
      { endpointId: 'ep_x', deliveryIds: all.slice(0, 3) },
      { endpointId: 'ep_x', deliveryIds: all.slice(3, 6) },
      { endpointId: 'ep_x', deliveryIds: all.slice(6) },
    ]);
    expect(batchesOf('ep_x', [], 3)).toEqual([]);
  });

  it('a batch job id is made of its deliveries: the same ones make the same id, others another', () => {
    const all = ids(3);
    expect(batchJobId(all)).toBe(batchJobId([...all]));
    expect(batchJobId(all)).not.toBe(batchJobId(all.slice(0, 2)));
    expect(batchJobId(all)).not.toBe(batchJobId([all[1]!, all[0]!, all[2]!]));
    // BullMQ refuses custom ids that are integers or hold ':' (its key separator).
    expect(batchJobId(all)).toMatch(/^batch_[0-9a-f]{32}$/);
  });

  it('retries keep the gaps of exponential backoff: base x 1, 2, 4, ...', () => {
    const policy = { maxAttempts: 6, backoffMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n))).toEqual([1000, 2000, 4000, 8000, 16000]);
  });
});

describe('endpoint lanes', () => {
  it('at most `limit` in flight per endpoint; the others wait, in order, and other endpoints do not', async () => {
    const lanes = new EndpointLanes(2);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const send = (ep: string, name: string) =>
      lanes.with(ep, () => {
        started.push(name);
        return new Promise<void>((r) => finish.set(name, r));
      });
    const all = [send('a', 'a1'), send('a', 'a2'), send('a', 'a3'), send('a', 'a4'), send('b', 'b1')];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a1', 'a2', 'b1']);
    expect([lanes.inFlight('a'), lanes.inFlight('b')]).toEqual([2, 1]);
    finish.get('a2')!();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(lanes.inFlight('a')).toBe(2);
    finish.get('a1')!();
    finish.get('b1')!();
    await new Promise((r) => setImmediate(r));
    expect(started.at(-1)).toBe('a4');
    finish.get('a3')!();
    finish.get('a4')!();
    await Promise.all(all);
    expect([lanes.inFlight('a'), lanes.inFlight('b')]).toEqual([0, 0]);
  });

  it('a send that throws gives its lane back', async () => {
    const lanes = new EndpointLanes(1);
    await expect(lanes.with('a', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(lanes.inFlight('a')).toBe(0);
    await expect(lanes.with('a', async () => 'sent')).resolves.toBe('sent');
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new EndpointLanes(0)).toThrow(RangeError);
    expect(() => new EndpointLanes(1.5)).toThrow(RangeError);
  });
});

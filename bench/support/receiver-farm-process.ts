/**
 * The child side of receiver-farm.ts: webhook receivers on loopback (test/support/webhook-receiver.ts),
 * whose arrivals go to the parent over IPC every FLUSH_MS (the arrival time is taken here, at
 * receipt, so the flushing adds nothing to the latencies measured).
 */
import { type Behaviour, type Receiver, startReceiver } from '../../test/support/webhook-receiver.ts';

const FLUSH_MS = 20;

export type FarmRequest = { start: Behaviour[] };
export type FarmMessage = { urls: string[] } | { arrivals: { receiver: number; wallMs: number; webhookId: string; json: unknown }[] };

const receivers: Receiver[] = [];
const sent: number[] = [];

function flush(): void {
  const arrivals: Extract<FarmMessage, { arrivals: unknown }>['arrivals'] = [];
  for (const [i, r] of receivers.entries()) {
    for (const x of r.received.slice(sent[i])) {
      arrivals.push({ receiver: i, wallMs: performance.timeOrigin + x.at, webhookId: String(x.headers['webhook-id']), json: x.json });
    }
    sent[i] = r.received.length;
  }
  if (arrivals.length) process.send?.({ arrivals } satisfies FarmMessage);
}

process.on('message', async (m: FarmRequest) => {
  for (const b of m.start) {
    receivers.push(await startReceiver(b));
    sent.push(0);
  }
  setInterval(flush, FLUSH_MS);
  process.send?.({ urls: receivers.map((r) => r.url) } satisfies FarmMessage);
});
// The parent went: so do the receivers.
process.on('disconnect', () => process.exit(0));

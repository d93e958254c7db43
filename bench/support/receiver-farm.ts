import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Behaviour, Received } from '../../test/support/webhook-receiver.ts';
import type { FarmMessage, FarmRequest } from './receiver-farm-process.ts';

/** A receiver in the farm, as the benchmark reads it: its URL and what it got (`at` on this process's performance clock). */
export interface FarmReceiver {
  url: string;
  received: Pick<Received, 'at' | 'headers' | 'json'>[];
  waitFor(done: (received: FarmReceiver['received']) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export interface ReceiverFarm {
  receivers: FarmReceiver[];
  /** The receivers' process. */
  pid: number;
  close(): Promise<void>;
}

/**
 * Webhook receivers in a process of their own, standing for machines elsewhere: its own session
 * (so its own autogroup where the kernel has them) at the lowest CPU priority, so the endpoints'
 * HTTP work takes only CPU that Trunkline's processes and the lab hosts leave.
 */
export async function startReceiverFarm(behaviours: Behaviour[]): Promise<ReceiverFarm> {
  const entry = fileURLToPath(new URL('./receiver-farm-process.ts', import.meta.url));
  const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
  if (child.pid !== undefined) {
    setPriority(child.pid, 19);
    try {
      writeFileSync(`/proc/${child.pid}/autogroup`, '19');
    } catch {}
  }
  const receivers: FarmReceiver[] = [];
  const urls = await new Promise<string[]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the receiver process exited (${code}) before it started`)));
    child.on('message', (m: FarmMessage) => {
      if ('urls' in m) resolve(m.urls);
      else
        for (const a of m.arrivals)
          receivers[a.receiver]!.received.push({
            at: a.wallMs - performance.timeOrigin,
            headers: { 'webhook-id': a.webhookId },
            json: a.json,
          });
    });
    child.send({ start: behaviours } satisfies FarmRequest);
  });
  for (const url of urls) {
    const r: FarmReceiver = {
      url,
      received: [],
      async waitFor(done, what, timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs;
        while (!done(r.received)) {
          if (Date.now() > until)
            throw new Error(`receiver ${url}: still waiting for ${what} after ${timeoutMs} ms (got ${r.received.length})`);
          await new Promise((res) => setTimeout(res, 25));
        }
      },
    };
    receivers.push(r);
  }
  return {
    receivers,
    pid: child.pid!,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

import type { Queue } from 'bullmq';
import { hostJobId, type ChangeJobData } from '../src/jobs/change-queue.ts';
import type { HostOrder, Place } from '../src/jobs/host-order.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { isTerminal } from '../src/jobs/job-types.ts';

/**
 * Thrown by a host part that is not next in line: the BullMQ job gives its worker slot up
 * (moved to delayed) instead of holding it while it waits, so that waiting parts can never fill
 * every worker while the part ahead of them needs one. The part that finishes before it promotes
 * it (see `handOver`); the delay is only the fallback.
 */
export class NotYourTurn extends Error {
  readonly retryInMs: number;
  readonly place: Place;

  constructor(retryInMs: number, place: Place) {
    super(`not this job's turn: ${place.ahead} job(s) ahead`);
    this.retryInMs = retryInMs;
    this.place = place;
  }
}

export interface TurnDeps {
  order: HostOrder;
  store: JobStore;
  queue: Queue<ChangeJobData>;
}

export interface TurnOptions {
  /** Told each time the part waits, with its place; throttling is the caller's. */
  onWait(place: Place): Promise<void>;
  cancelRequested(): Promise<boolean>;
  /** How long the next in line waits in place before it gives its slot up too. */
  inPlaceMs?: number;
  pollMs?: number;
}

// A record this old that is still QUEUED without a BullMQ job was accepted by a gateway that died
// before it could queue it: its place is stale. Younger ones may be in the middle of being queued.
export const ORPHAN_AFTER_MS = 60_000;

/**
 * Whether the job holding a host's first place still has work to do there. A place whose job
 * ended (its worker died between recording the end and releasing), expired or was never queued
 * is stale and released by whoever finds it, so no host waits forever.
 */
export async function holdsTurn(deps: TurnDeps, jobId: string, host: string): Promise<boolean> {
  const job = await deps.store.hostPartState(jobId, host);
  if (!job || isTerminal(job.state)) return false;
  if (job.part && isTerminal(job.part)) return false;
  if (job.state === 'QUEUED' && Date.now() - Date.parse(job.createdAt) > ORPHAN_AFTER_MS) {
    const queued = (await deps.queue.getJob(jobId)) ?? (await deps.queue.getJob(hostJobId(jobId, host)));
    if (!queued) return false;
  }
  return true;
}

/**
 * Waits until it is the job's turn on `host` (every job accepted before it there has ended).
 * Only the next in line waits in place; a part further back throws NotYourTurn at once.
 * Returns 'TURN', or 'CANCELLED' when the job was cancelled while it waited.
 */
export async function awaitTurn(deps: TurnDeps, jobId: string, host: string, options: TurnOptions): Promise<'TURN' | 'CANCELLED'> {
  const inPlaceMs = options.inPlaceMs ?? 2000;
  const pollMs = options.pollMs ?? 10;
  const started = Date.now();
  let checkedFirst = { id: '', at: 0 };
  let checkedCancel = 0;
  for (;;) {
    const place = await deps.order.place(jobId, host);
    // No place: released already, or accepted before the host order existed.
    if (!place || place.ahead === 0) return 'TURN';
    const now = Date.now();
    if (place.first && (checkedFirst.id !== place.first || now - checkedFirst.at > 1000)) {
      checkedFirst = { id: place.first, at: now };
      if (!(await holdsTurn(deps, place.first, host))) {
        await deps.order.release(place.first, [host]);
        continue;
      }
    }
    if (now - checkedCancel > 250) {
      checkedCancel = now;
      if (await options.cancelRequested()) return 'CANCELLED';
    }
    await options.onWait(place);
    if (place.ahead > 1 || now - started > inPlaceMs) throw new NotYourTurn(Math.min(5000, 500 * place.ahead), place);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Gives up the job's place on `host` and wakes the next two in line if they gave their worker
 * slots up (delayed BullMQ jobs): the next one runs at once, the one after waits in place.
 */
export async function handOver(deps: TurnDeps, jobId: string, host: string): Promise<void> {
  await deps.order.release(jobId, [host]);
  for (const next of await deps.order.next(host, 2)) {
    for (const id of [hostJobId(next, host), next]) {
      const job = await deps.queue.getJob(id).catch(() => undefined);
      if (job && (await job.isDelayed().catch(() => false))) await job.promote().catch(() => {});
    }
  }
}

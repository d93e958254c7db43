/*
 * What a worker that lost its host lease or its claim on a BullMQ job does instead of going on:
 * stop without recording anything more, keep the job's places, and let whoever has the job now
 * (BullMQ, on this worker or another) run it.
 */

/** The worker's claim on the part's BullMQ job: whether BullMQ still has it on this worker (not handed to another after a stall). */
export interface AttemptClaim {
  stillOurs(): Promise<boolean>;
}

/**
 * Thrown out of a part that stopped because its lease or claim was lost: nothing was recorded
 * and the host was not handed over (the part is not over). `claimed`: BullMQ still has the part
 * on this worker, which runs it again; otherwise another worker has it.
 */
export class PartInterrupted extends Error {
  readonly claimed: boolean;
  readonly reason: string;

  constructor(claimed: boolean, reason: string) {
    super(reason);
    this.claimed = claimed;
    this.reason = reason;
  }
}

/** What a lost lease (LOCK_LOST) means for the job: interrupted, run again here only if BullMQ still has it here. */
export async function interruptedBy(err: Error, claim: AttemptClaim): Promise<PartInterrupted> {
  return new PartInterrupted(await claim.stillOurs().catch(() => false), err.message);
}

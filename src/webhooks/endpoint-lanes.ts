/**
 * How many POSTs one process has in flight to each endpoint, at most `limit` each: a slot is
 * taken before a POST and given back after it; one asked for while all are taken is waited for
 * and handed over in the order asked. Keeps an endpoint that hangs until every timeout from
 * taking more than its share of the process's delivery slots.
 */
export class EndpointLanes {
  readonly limit: number;
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`lanes per endpoint must be a positive integer, not ${limit}`);
    this.limit = limit;
  }

  /** POSTs in flight to the endpoint. */
  inFlight(endpointId: string): number {
    return this.busy.get(endpointId) ?? 0;
  }

  /** Takes a slot, waiting for one when the endpoint has `limit` in flight. */
  async acquire(endpointId: string): Promise<void> {
    const n = this.inFlight(endpointId);
    if (n < this.limit) {
      this.busy.set(endpointId, n + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const queue = this.waiting.get(endpointId) ?? [];
      queue.push(resolve);
      this.waiting.set(endpointId, queue);
    });
  }

  /** Gives a slot back: to the first waiting for one, or free. */
  release(endpointId: string): void {
    const queue = this.waiting.get(endpointId);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.waiting.delete(endpointId);
    if (next) {
      // The slot goes straight to the waiter: the count stays.
      next();
      return;
    }
    const n = this.inFlight(endpointId) - 1;
    if (n > 0) this.busy.set(endpointId, n);
    else this.busy.delete(endpointId);
  }

  /** Runs `send` holding a slot. */
  async with<T>(endpointId: string, send: () => Promise<T>): Promise<T> {
    await this.acquire(endpointId);
    try {
      return await send();
    } finally {
      this.release(endpointId);
    }
  }
}

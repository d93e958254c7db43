/**
 * Serialises jobs per hypervisor inside one worker process: two jobs that touch the same host
 * never interleave their steps. Hosts are locked in name order so two multi-host jobs cannot
 * deadlock. (Across worker processes this becomes a Redis lock; see the issue notes.)
 */
export class HostLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async withHosts<T>(hosts: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(hosts)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const h of sorted) releases.push(await this.acquire(h));
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  }

  private async acquire(host: string): Promise<() => void> {
    const previous = this.tails.get(host) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(host, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(host) === tail) this.tails.delete(host);
    };
  }
}

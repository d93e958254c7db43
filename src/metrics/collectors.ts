import { type HostState, isStale } from '../hosts/host-state.ts';
import type { GatewayMetricSet } from './definitions.ts';

/*
 * Gauges read when Prometheus scrapes, not kept up to date as things happen: what BullMQ counts in
 * its queues, and what the host state cache says of each registered host. Every gateway reports
 * the same values (they read the same Redis): take max() or one gateway's. Host series are
 * bounded by the fleet: a host that leaves the registry leaves the gauges at the next scrape.
 * A read that fails (Redis unavailable) leaves its gauges as the last scrape set them and counts
 * trunkline_metrics_collect_errors_total; the rest of the scrape is served.
 */

export interface QueueSource {
  /** The queue label: changes, webhooks. */
  name: string;
  queue: { getJobCounts(): Promise<Record<string, number>> };
}

export interface ScrapeSources {
  queues: readonly QueueSource[];
  hosts: { list(): Promise<readonly { name: string }[]> };
  cache: { getMany(hosts: readonly string[]): Promise<Map<string, HostState | null>> };
  /** TRUNKLINE_STATE_FRESHNESS_SECONDS: when the API calls cached state stale. */
  freshnessSeconds: number;
}

export interface HostGauge {
  host: string;
  reachable: 0 | 1;
  /** Seconds since the last successful read; null when never read. */
  ageSeconds: number | null;
  stale: 0 | 1;
}

/** What the host gauges say of each registered host, from its cached state (pure). */
export function hostGauges(
  names: readonly string[],
  states: ReadonlyMap<string, HostState | null>,
  freshnessSeconds: number,
  now: number,
): HostGauge[] {
  return names.map((host) => {
    const state = states.get(host) ?? null;
    const observed = state?.observedAt ? Date.parse(state.observedAt) : Number.NaN;
    return {
      host,
      reachable: state?.status === 'REACHABLE' ? 1 : 0,
      ageSeconds: Number.isFinite(observed) ? Math.max(0, (now - observed) / 1000) : null,
      stale: !state || isStale(state, freshnessSeconds, now) ? 1 : 0,
    };
  });
}

/** Reads every source once and sets the scrape-time gauges. */
export async function collectOnScrape(set: GatewayMetricSet, sources: ScrapeSources, now = Date.now()): Promise<void> {
  const queues = Promise.all(
    sources.queues.map(async ({ name, queue }) => {
      try {
        return { name, counts: await queue.getJobCounts() };
      } catch {
        set.collectErrors.inc({ collector: 'queue' });
        return { name, counts: null };
      }
    }),
  );
  const hosts = (async () => {
    try {
      const names = (await sources.hosts.list()).map((h) => h.name);
      return { names, states: await sources.cache.getMany(names) };
    } catch {
      set.collectErrors.inc({ collector: 'hosts' });
      return null;
    }
  })();
  const [counted, read] = await Promise.all([queues, hosts]);
  for (const { name, counts } of counted) {
    if (!counts) continue;
    // BullMQ answers every state each time: each series is overwritten.
    for (const [state, n] of Object.entries(counts)) set.queueJobs.set({ queue: name, state }, n);
  }
  if (!read) return;
  set.hostsRegistered.set(read.names.length);
  // Anew: a host that left the registry leaves the gauges.
  set.hostReachable.reset();
  set.hostStateAge.reset();
  set.hostStateStale.reset();
  for (const g of hostGauges(read.names, read.states, sources.freshnessSeconds, now)) {
    set.hostReachable.set({ host: g.host }, g.reachable);
    set.hostStateStale.set({ host: g.host }, g.stale);
    if (g.ageSeconds !== null) set.hostStateAge.set({ host: g.host }, g.ageSeconds);
  }
}

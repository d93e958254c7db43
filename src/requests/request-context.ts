import type { Config } from '../config/config.ts';
import { planRefresh } from '../changes/refresh-hypervisor.ts';
import type { HostStateCache } from '../hosts/host-state-cache.ts';
import { unknownHostState } from '../hosts/host-state.ts';
import type { HostView } from '../hosts/host-view.ts';
import type { RedisHostRegistry } from '../inventory/redis-host-registry.ts';
import type { ChangeQueue } from '../jobs/change-queue.ts';
import type { HostOrder } from '../jobs/host-order.ts';
import type { JobEventHub } from '../jobs/job-event-hub.ts';
import type { JobStore } from '../jobs/job-store.ts';
import type { JobRecord } from '../jobs/job-types.ts';
import { submitChange } from '../jobs/submit-change.ts';
import type { Logger } from '../log/logger.ts';
import type { VlanNames } from '../inventory/vlan-names.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { Webhooks } from '../webhooks/webhooks.ts';
import type { Redis } from 'ioredis';

/** Long-lived services a gateway process shares between requests. The gateway never SSHes. */
export interface GatewayServices {
  config: Config;
  registry: RedisHostRegistry;
  cache: HostStateCache;
  store: JobStore;
  queue: ChangeQueue;
  /** Per-host order of acceptance (see src/jobs/host-order.ts). */
  order: HostOrder;
  hub: JobEventHub;
  vlanNames: VlanNames;
  idempotency: IdempotencyStore;
  /** Webhook endpoints, their delivery history and the delivery queue (redeliver). */
  webhooks: Webhooks;
  /** The connection the stores share (for a few direct reads, e.g. readiness). */
  redis: Redis;
  logger: Logger;
}

export type { HostView };

/** Per-request context of either API: the services plus request-scoped memos. */
export interface RequestContext extends GatewayServices {
  requestedBy: string | null;
  /** Every registered host with its cached state, read once per request (two Redis round trips). */
  fleet(): Promise<HostView[]>;
  hostView(name: string): Promise<HostView | undefined>;
  /** Queues a refreshHypervisor job and waits (bounded) until it ends; then the memo is dropped. */
  refresh(hosts: readonly string[]): Promise<JobRecord>;
}

export function createRequestContext(services: GatewayServices, requestedBy: string | null): RequestContext {
  let fleet: Promise<HostView[]> | undefined;
  let byName: Promise<Map<string, HostView>> | undefined;
  const load = async (): Promise<HostView[]> => {
    const hosts = await services.registry.list();
    const states = await services.cache.getMany(hosts.map((h) => h.name));
    return hosts.map((host) => ({ host, state: states.get(host.name) ?? unknownHostState(host.name) }));
  };
  const ctx: RequestContext = {
    ...services,
    requestedBy,
    fleet: () => (fleet ??= load()),
    hostView: async (name) => (await (byName ??= ctx.fleet().then((all) => new Map(all.map((v) => [v.host.name, v]))))).get(name),
    async refresh(hosts) {
      const plan = planRefresh(hosts);
      const job = await submitChange(services, 'refreshHypervisor', { hypervisors: [...hosts] }, plan, { requestedBy, ticketRef: null });
      const final = await waitForEnd(services, job.id, services.config.inventory.refreshWaitMs);
      fleet = undefined;
      byName = undefined;
      return final ?? job;
    },
  };
  return ctx;
}

/** Follows a job until it ends or the time is up; returns its last known record. */
async function waitForEnd(services: GatewayServices, jobId: string, timeoutMs: number): Promise<JobRecord | null> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    for await (const _event of services.hub.follow(jobId, abort.signal)) {
      // follow() ends after the terminal event.
    }
  } finally {
    clearTimeout(timer);
  }
  return services.store.get(jobId);
}

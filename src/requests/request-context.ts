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
import type { AuditLog } from '../audit/audit-log.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Caller } from '../auth/caller.ts';
import type { HostGroupStore } from '../auth/host-group-store.ts';
import { inScope, type Scope, scopeOf } from '../auth/scope.ts';
import type { TokenStore } from '../auth/token-store.ts';
import { submittedBy } from './requester.ts';

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
  auth: AuthServices;
  /** Who asked for what (src/audit/): written by the gateway's entry points, read by admins. */
  audit: AuditLog;
  /** Per-caller rate limits, shared by every gateway (src/limits/). */
  rates: RateLimiter;
  logger: Logger;
}

/** Who may call (src/auth/): the authenticator of every entry point, tokens, host groups. */
export interface AuthServices {
  authenticator: Authenticator;
  tokens: TokenStore;
  hostGroups: HostGroupStore;
  /** The token hashes' pepper; null when authentication is off. */
  pepper: Buffer | null;
}

/** Who sent a request, and from where. */
export interface RequestOrigin {
  caller: Caller;
  /** The client's address as the gateway saw it (null in process, e.g. a serverless runtime that does not say). */
  source: string | null;
}

export type { HostView };

/** Per-request context of either API: the services plus request-scoped memos. */
export interface RequestContext extends GatewayServices, RequestOrigin {
  /** The caller's name: what its jobs record as requestedBy. */
  requestedBy: string;
  /** The hypervisors the caller may see and touch (read once per request). */
  scope(): Promise<Scope>;
  /** The registered hosts in the caller's scope with their cached state, read once per request (two Redis round trips). */
  fleet(): Promise<HostView[]>;
  hostView(name: string): Promise<HostView | undefined>;
  /** Queues a refreshHypervisor job and waits (bounded) until it ends; then the memo is dropped. */
  refresh(hosts: readonly string[]): Promise<JobRecord>;
}

export function createRequestContext(services: GatewayServices, origin: RequestOrigin): RequestContext {
  let fleet: Promise<HostView[]> | undefined;
  let byName: Promise<Map<string, HostView>> | undefined;
  let scope: Promise<Scope> | undefined;
  const requestedBy = origin.caller.name;
  const load = async (): Promise<HostView[]> => {
    const [registered, visible] = await Promise.all([services.registry.list(), ctx.scope()]);
    // Hosts outside the caller's scope are not there for it: every view is built from this list.
    const hosts = registered.filter((h) => inScope(visible, h.name));
    const states = await services.cache.getMany(hosts.map((h) => h.name));
    return hosts.map((host) => ({ host, state: states.get(host.name) ?? unknownHostState(host.name) }));
  };
  const ctx: RequestContext = {
    ...services,
    ...origin,
    requestedBy,
    scope: () => (scope ??= scopeOf(origin.caller, services.auth.hostGroups)),
    fleet: () => (fleet ??= load()),
    hostView: async (name) => (await (byName ??= ctx.fleet().then((all) => new Map(all.map((v) => [v.host.name, v]))))).get(name),
    async refresh(hosts) {
      const plan = planRefresh(hosts);
      const job = await submitChange(services, 'refreshHypervisor', { hypervisors: [...hosts] }, plan, submittedBy(ctx, null));
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

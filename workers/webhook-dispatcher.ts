import type { Redis } from 'ioredis';
import type { HostGroupStore } from '../src/auth/host-group-store.ts';
import { inScope, type Scope, scopeOfGroups } from '../src/auth/scope.ts';
import { type JobStore, parseFleetEntry } from '../src/jobs/job-store.ts';
import type { JobEvent } from '../src/jobs/job-types.ts';
import { compareStreamIds } from '../src/jobs/stream-id.ts';
import type { Logger } from '../src/log/logger.ts';
import { webhookMetrics } from '../src/metrics/webhooks.ts';
import { connectRedis } from '../src/redis/connect.ts';
import { batchesOf } from '../src/webhooks/delivery-queue.ts';
import { deliveryIdOf } from '../src/webhooks/delivery-store.ts';
import { webhookEventType } from '../src/webhooks/event-types.ts';
import { matchesFilter, needsJobHosts } from '../src/webhooks/filter.ts';
import { webhookPayload } from '../src/webhooks/payload.ts';
import type { StoredEndpoint } from '../src/webhooks/types.ts';
import type { Webhooks } from '../src/webhooks/webhooks.ts';

/*
 * The webhook dispatcher: reads the fleet event log (`<prefix>:events`, every job's events) as
 * the Redis consumer group `webhooks`, so every worker process runs one and each entry goes to
 * exactly one of them; an entry is acknowledged (XACK) only after its deliveries are recorded and
 * queued, so a dispatcher that dies leaves it pending, and it is read again: by itself after a
 * restart of the same consumer, by another through XAUTOCLAIM once it has been idle a while.
 * Reading twice is harmless: the delivery record's id is the delivery id (endpoint + sequence),
 * a delivery whose record shows an attempt is not queued again, and one queued in two batches is
 * sent by the batch that claims it first. The deliveries of what one read brought are queued as
 * one batch job per endpoint (delivery-queue.ts); after an event comes, the dispatcher waits
 * TRUNKLINE_WEBHOOK_LINGER_MS for more before it reads again, so a busy fleet makes few, fuller
 * batches. It only records and enqueues, never sends: an endpoint's speed cannot hold it up, and
 * it never touches the change queue.
 */

export const DISPATCH_GROUP = 'webhooks';
const BATCH = 200;
const BLOCK_MS = 1000;
/** An entry another consumer read but did not acknowledge for this long is taken over. */
const CLAIM_IDLE_MS = 30_000;
const CLAIM_EVERY_MS = 10_000;
/** Jobs whose hypervisors were read (for hypervisor filters on job-level events), newest kept. */
const JOB_HOSTS_CACHE = 2000;

type StreamEntry = [id: string, fields: string[] | null];

export interface DispatcherDeps {
  redisUrl: string;
  prefix: string;
  store: JobStore;
  webhooks: Webhooks;
  /** The host groups of endpoints whose owner is limited to some. */
  hostGroups: Pick<HostGroupStore, 'many'>;
  logger: Logger;
  /** This process's consumer name in the group. */
  consumer: string;
}

export interface Dispatcher {
  /** Resolves once the consumer group exists: events from then on are dispatched. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function startWebhookDispatcher(deps: DispatcherDeps): Dispatcher {
  const key = `${deps.prefix}:events`;
  // Blocking reads need a connection of their own.
  const conn: Redis = connectRedis(deps.redisUrl, 'trunkline-webhook-dispatcher');
  const log = deps.logger.child({ component: 'webhook-dispatcher' });
  const jobHosts = new Map<string, string[] | null>();
  let stopping = false;

  async function hostsOf(jobId: string): Promise<string[] | null> {
    if (!jobHosts.has(jobId)) {
      const hosts = (await deps.store.get(jobId))?.hypervisors ?? null;
      jobHosts.set(jobId, hosts);
      if (jobHosts.size > JOB_HOSTS_CACHE) jobHosts.delete(jobHosts.keys().next().value!);
    }
    return jobHosts.get(jobId) ?? null;
  }

  async function matching(
    endpoints: readonly StoredEndpoint[],
    event: JobEvent,
    scopes: Map<StoredEndpoint, Promise<Scope>>,
  ): Promise<StoredEndpoint[]> {
    const out: StoredEndpoint[] = [];
    for (const ep of endpoints) {
      // An endpoint gets the events after its creation only.
      if (compareStreamIds(event.sequence!, ep.since) <= 0) continue;
      // And, when its owner is limited to host groups, those of jobs within them only.
      const groups = ep.owner?.hostGroups;
      if (groups) {
        if (!scopes.has(ep)) scopes.set(ep, scopeOfGroups(groups, deps.hostGroups));
        const scope = await scopes.get(ep)!;
        const hosts = (await hostsOf(event.jobId)) ?? [];
        if (hosts.length === 0 || !hosts.every((h) => inScope(scope, h))) continue;
      }
      const hosts = needsJobHosts(ep.filter, event) ? await hostsOf(event.jobId) : null;
      if (matchesFilter(ep.filter, event, hosts)) out.push(ep);
    }
    return out;
  }

  /** Records and queues the deliveries of some entries, then acknowledges them. */
  async function dispatch(entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const endpoints = (await deps.webhooks.endpoints.list()).filter((e) => e.enabled);
    // Owners' scopes, read once per read of the log.
    const scopes = new Map<StoredEndpoint, Promise<Scope>>();
    // Per endpoint, its deliveries to queue, in the log's order.
    const queued = new Map<string, Promise<string | null>[]>();
    for (const entry of entries) {
      const event = parseFleetEntry(entry);
      if (!event) {
        log.warn({ sequence: entry[0] }, 'fleet log entry is not a job event; skipped');
        continue;
      }
      const targets = endpoints.length ? await matching(endpoints, event, scopes) : [];
      if (targets.length === 0) continue;
      const body = JSON.stringify(webhookPayload(event));
      for (const ep of targets) {
        const id = deliveryIdOf(ep.id, event.sequence!);
        const delivery = {
          id,
          endpointId: ep.id,
          sequence: event.sequence!,
          jobId: event.jobId,
          jobEventType: event.type,
          type: webhookEventType(event.type),
          body,
        };
        const list = queued.get(ep.id) ?? [];
        list.push(deps.webhooks.deliveries.create(delivery).then((queue) => (queue ? id : null)));
        queued.set(ep.id, list);
      }
    }
    // Records first: the delivery worker reads the body from them. A record that existed with an
    // attempt made is not queued again.
    const batches = [];
    let deliveries = 0;
    for (const [endpointId, created] of queued) {
      const ids = (await Promise.all(created)).filter((id): id is string => id !== null);
      deliveries += ids.length;
      batches.push(...batchesOf(endpointId, ids));
    }
    await deps.webhooks.queue.enqueueBatches(batches);
    await conn.call('xack', key, DISPATCH_GROUP, ...entries.map((e) => e[0]));
    webhookMetrics.eventsDispatched.inc(entries.length);
    webhookMetrics.deliveriesQueued.inc(deliveries);
    if (deliveries) log.debug({ events: entries.length, deliveries, batches: batches.length }, 'dispatched');
  }

  async function ensureGroup(): Promise<void> {
    try {
      // '$': a new deployment starts with the events that come from now on.
      await conn.call('xgroup', 'create', key, DISPATCH_GROUP, '$', 'mkstream');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
  }

  /** Reads up to `count` entries: this consumer's pending ones (id 0), or new ones (`>`, waiting up to BLOCK_MS unless `wait` is false). */
  const read = async (id: string, count = BATCH, wait = true): Promise<StreamEntry[]> => {
    const res = (await conn.call(
      'xreadgroup',
      'group',
      DISPATCH_GROUP,
      deps.consumer,
      'count',
      count,
      ...(id === '>' && wait ? ['block', BLOCK_MS] : []),
      'streams',
      key,
      id,
    )) as [string, StreamEntry[]][] | null;
    return res?.[0]?.[1] ?? [];
  };

  /** Entries other consumers (dead workers) read long ago and never acknowledged. */
  const claim = async (): Promise<StreamEntry[]> => {
    const res = (await conn.call('xautoclaim', key, DISPATCH_GROUP, deps.consumer, CLAIM_IDLE_MS, '0-0', 'count', BATCH)) as [
      string,
      StreamEntry[],
    ];
    return (res?.[1] ?? []).filter((e) => e[1] !== null);
  };

  const ready = ensureGroup();
  const loop = (async () => {
    await ready;
    // This consumer's own unacknowledged entries first (a restart under the same name).
    let pending = true;
    let lastClaim = 0;
    while (!stopping) {
      try {
        if (pending) {
          const own = await read('0');
          await dispatch(own);
          pending = own.length === BATCH;
          continue;
        }
        if (Date.now() - lastClaim > CLAIM_EVERY_MS) {
          lastClaim = Date.now();
          await dispatch(await claim());
        }
        const entries = await read('>');
        const { lingerMs } = deps.webhooks.config;
        // Events come in bursts (a job writes several within milliseconds, a fleet change one per
        // host): waiting a little for the rest makes one batch per endpoint instead of several.
        if (entries.length > 0 && entries.length < BATCH && lingerMs > 0) {
          await new Promise((r) => setTimeout(r, lingerMs));
          entries.push(...(await read('>', BATCH - entries.length, false)));
        }
        await dispatch(entries);
      } catch (err) {
        if (stopping) break;
        log.error({ err: (err as Error).message }, 'webhook dispatch failed; retrying');
        // What was read and not acknowledged is read again from this consumer's pending list.
        pending = true;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();
  ready.then(
    () => log.info({ stream: key, group: DISPATCH_GROUP, consumer: deps.consumer }, 'webhook dispatcher ready'),
    (err) => log.error({ err: (err as Error).message }, 'webhook dispatcher could not create its consumer group'),
  );

  return {
    ready,
    async close() {
      stopping = true;
      // The blocking read returns within BLOCK_MS.
      await loop.catch(() => {});
      // A consumer that leaves nothing pending leaves the group (the names of dead workers do not pile up).
      try {
        const pending = (await conn.call('xpending', key, DISPATCH_GROUP, '-', '+', 1, deps.consumer)) as unknown[];
        if (pending.length === 0) await conn.call('xgroup', 'delconsumer', key, DISPATCH_GROUP, deps.consumer);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not leave the webhook consumer group');
      }
      conn.disconnect();
    },
  };
}

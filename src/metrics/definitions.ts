import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobRecord } from '../jobs/job-types.ts';

/*
 * Every Trunkline metric: its name, help, labels and buckets (docs/metrics.md lists them). Each
 * process defines the ones it records on its own registry (src/metrics/gateway.ts, worker.ts,
 * webhooks.ts); a metric both the gateway and the workers record (a job's end: a gateway ends the
 * jobs it cancels before they start) has the same definition in both, so sums across processes add up.
 * Labels take values from closed sets only (labels.ts).
 */

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_SLOW = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

/** How jobs end (counted by whichever process records the end). */
export function defineJobMetrics(registry: Registry) {
  const registers = [registry];
  const finished = new Counter({
    name: 'trunkline_jobs_finished_total',
    help: 'Jobs that ended, by kind and end state (SUCCEEDED, FAILED, CANCELLED)',
    labelNames: ['kind', 'state'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'trunkline_job_duration_seconds',
    help: 'From acceptance to end, by kind and end state: what a caller waits for a job',
    labelNames: ['kind', 'state'] as const,
    buckets: SECONDS_SLOW,
    registers,
  });
  return {
    finished,
    duration,
    /** A job's end, once: from the record just written with its end state. */
    ended(record: Pick<JobRecord, 'kind' | 'state' | 'createdAt' | 'finishedAt'>): void {
      const labels = { kind: record.kind, state: record.state };
      finished.inc(labels);
      const ms = Date.parse(record.finishedAt ?? new Date().toISOString()) - Date.parse(record.createdAt);
      if (Number.isFinite(ms)) duration.observe(labels, Math.max(0, ms) / 1000);
    },
  };
}
export type JobMetrics = ReturnType<typeof defineJobMetrics>;

/** What a gateway records itself (the GraphQL plugin's timings are defined in graphql.ts). */
export function defineGatewayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    jobs: defineJobMetrics(registry),
    jobsAccepted: new Counter({
      name: 'trunkline_jobs_accepted_total',
      help: 'Jobs the gateway accepted (recorded and queued), by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    httpRequests: new Counter({
      name: 'trunkline_http_requests_total',
      help: 'HTTP requests the gateway answered, by entry point (graphql, rest, docs, metrics, healthz, ui, other), method and status; refusals at the door (401, 429) included',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    restRequests: new Counter({
      name: 'trunkline_rest_requests_total',
      help: 'REST API requests, by operationId (unknown: no such route) and status',
      labelNames: ['operation', 'status'] as const,
      registers,
    }),
    restDuration: new Histogram({
      name: 'trunkline_rest_request_duration_seconds',
      help: 'Time to answer a REST request (to the response headers; an event stream counts until it starts), by operationId',
      labelNames: ['operation'] as const,
      buckets: SECONDS_FAST,
      registers,
    }),
    graphqlOperations: new Counter({
      name: 'trunkline_graphql_operations_total',
      help: 'GraphQL operations, by type, root field and outcome (ok, user_error: a payload with userErrors, error: errors in the answer, invalid: refused before it ran)',
      labelNames: ['operation_type', 'operation', 'outcome'] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: 'trunkline_queue_jobs',
      help: "BullMQ's own count of the jobs in a queue (changes, webhooks) by state, read when scraped",
      labelNames: ['queue', 'state'] as const,
      registers,
    }),
    hostsRegistered: new Gauge({
      name: 'trunkline_hosts_registered',
      help: 'Hypervisors in the host registry, read when scraped',
      registers,
    }),
    hostReachable: new Gauge({
      name: 'trunkline_host_reachable',
      help: 'Whether the last read of a hypervisor reached it over SSH (1) or not (0; also never read), from the host state cache when scraped',
      labelNames: ['host'] as const,
      registers,
    }),
    hostStateAge: new Gauge({
      name: 'trunkline_host_state_age_seconds',
      help: 'Age of the cached state of a hypervisor (since its last successful read); absent for a host never read',
      labelNames: ['host'] as const,
      registers,
    }),
    hostStateStale: new Gauge({
      name: 'trunkline_host_state_stale',
      help: 'Whether the API reports the cached state of a hypervisor as stale (never read, last read failed, or older than TRUNKLINE_STATE_FRESHNESS_SECONDS)',
      labelNames: ['host'] as const,
      registers,
    }),
    collectErrors: new Counter({
      name: 'trunkline_metrics_collect_errors_total',
      help: 'Reads made for a scrape that failed (Redis unavailable): their gauges are left out of that scrape',
      labelNames: ['collector'] as const,
      registers,
    }),
  };
}
export type GatewayMetricSet = ReturnType<typeof defineGatewayMetrics>;

/** What a worker records: jobs, host parts, steps, SSH, host locks, its BullMQ queue. */
export function defineWorkerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    jobs: defineJobMetrics(registry),
    hostParts: new Counter({
      name: 'trunkline_host_parts_total',
      help: "Host parts of change jobs (one hypervisor's share) that ended on this worker, by job kind and end state",
      labelNames: ['kind', 'state'] as const,
      registers,
    }),
    steps: new Counter({
      name: 'trunkline_steps_total',
      help: 'Steps that ended, by step kind (the probe kind: ovs-bridge, libvirt-vm-state, …; the job kind for verifyVlan and refreshHypervisor) and outcome (changed, unchanged, failed)',
      labelNames: ['step_kind', 'outcome'] as const,
      registers,
    }),
    stepDuration: new Histogram({
      name: 'trunkline_step_duration_seconds',
      help: 'Time from a step starting to its end (its observation, command and verification), by step kind',
      labelNames: ['step_kind'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    }),
    stepFailures: new Counter({
      name: 'trunkline_step_failures_total',
      help: 'Steps that failed, by step kind and error code',
      labelNames: ['step_kind', 'code'] as const,
      registers,
    }),
    rollbacks: new Counter({
      name: 'trunkline_rollbacks_total',
      help: 'Undo attempts of applied steps after a failure, by step kind and outcome (SUCCEEDED, FAILED, NOT_POSSIBLE)',
      labelNames: ['step_kind', 'outcome'] as const,
      registers,
    }),
    sshRoundTrips: new Counter({
      name: 'trunkline_ssh_round_trips_total',
      help: 'SSH exec round trips (one command, or one batch of them), by hypervisor and outcome (ok: the command ran, whatever its exit status; else the error code)',
      labelNames: ['host', 'outcome'] as const,
      registers,
    }),
    sshRoundTripSeconds: new Histogram({
      name: 'trunkline_ssh_round_trip_seconds',
      help: 'Latency of an SSH exec round trip (waiting for a channel included), by hypervisor',
      labelNames: ['host'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers,
    }),
    sshCommands: new Counter({
      name: 'trunkline_ssh_commands_total',
      help: 'Commands sent over SSH (each command of a batch counts), by hypervisor',
      labelNames: ['host'] as const,
      registers,
    }),
    sshConnections: new Counter({
      name: 'trunkline_ssh_connections_total',
      help: 'SSH connections opened, by hypervisor and outcome (ok, or the error code)',
      labelNames: ['host', 'outcome'] as const,
      registers,
    }),
    hostReads: new Counter({
      name: 'trunkline_host_reads_total',
      help: 'Reads of a hypervisor into the host state cache (refreshes), by hypervisor and outcome (ok, or the error code)',
      labelNames: ['host', 'outcome'] as const,
      registers,
    }),
    lockWait: new Histogram({
      name: 'trunkline_host_lock_wait_seconds',
      help: 'Time a job waited for its host locks (0 when free); the count is the locks taken',
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    locksLost: new Counter({
      name: 'trunkline_host_locks_lost_total',
      help: 'Host leases found lost (the holder was paused past their lifetime and another worker may have the host)',
      registers,
    }),
    queueWait: new Histogram({
      name: 'trunkline_queue_wait_seconds',
      help: 'Time a BullMQ job waited in the change queue before a worker first took it, by job name (hostSteps, verifyVlan, refreshHypervisor, refreshFleet)',
      labelNames: ['name'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    activeJobs: new Gauge({
      name: 'trunkline_worker_active_jobs',
      help: 'BullMQ jobs this worker is running now, by job name',
      labelNames: ['name'] as const,
      registers,
    }),
    concurrency: new Gauge({
      name: 'trunkline_worker_concurrency',
      help: 'How many BullMQ jobs this worker runs at once at most (TRUNKLINE_WORKER_CONCURRENCY)',
      registers,
    }),
    webhookProcessUp: new Gauge({
      name: 'trunkline_webhook_process_up',
      help: "Whether this worker's webhook process answered for this scrape (1) or not (0); its metrics follow when it did",
      registers,
    }),
  };
}
export type WorkerMetricSet = ReturnType<typeof defineWorkerMetrics>;

/** What the webhook process records. */
export function defineWebhookMetrics(registry: Registry) {
  const registers = [registry];
  return {
    attempts: new Counter({
      name: 'trunkline_webhook_attempts_total',
      help: 'Webhook delivery attempts (POSTs), by outcome (delivered: a 2xx; retrying: failed, another attempt comes; failed: the last attempt failed)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    attemptSeconds: new Histogram({
      name: 'trunkline_webhook_attempt_seconds',
      help: 'Latency of a webhook POST (to the status line, or the timeout)',
      buckets: SECONDS_FAST,
      registers,
    }),
    eventsDispatched: new Counter({
      name: 'trunkline_webhook_events_dispatched_total',
      help: 'Job events the webhook dispatcher read from the fleet event log',
      registers,
    }),
    deliveriesQueued: new Counter({
      name: 'trunkline_webhook_deliveries_queued_total',
      help: 'Webhook deliveries created and queued (one per event and endpoint it matched)',
      registers,
    }),
  };
}
export type WebhookMetricSet = ReturnType<typeof defineWebhookMetrics>;

import { Registry } from 'prom-client';
import { defineWorkerMetrics } from './definitions.ts';

/**
 * The worker process's registry and metrics. The SSH pool (src/ssh/ssh-pool.ts), the host locks
 * (src/jobs/host-locks.ts) and the step engine (workers/host-steps/) record into them directly:
 * only workers run those, and a process-wide registry spares every dependency list a metrics
 * argument. workers/main.ts serves it (listener.ts) with its webhook process's metrics.
 */
export const workerRegistry = new Registry();
export const workerMetrics = defineWorkerMetrics(workerRegistry);

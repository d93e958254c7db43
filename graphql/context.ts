import type { Queue } from 'bullmq';
import type { Config } from '../src/config/config.ts';
import type { Host, HostRegistry } from '../src/inventory/host-registry.ts';
import type { HostObservation } from '../src/hosts/observe-host.ts';
import { observeHost } from '../src/hosts/observe-host.ts';
import type { ChangeJobData } from '../src/jobs/change-queue.ts';
import type { JobEventHub } from '../src/jobs/job-event-hub.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import type { Logger } from '../src/log/logger.ts';
import type { CommandRunner } from '../src/ssh/ssh-pool.ts';

/** Long-lived services a gateway process shares between requests. */
export interface GatewayServices {
  config: Config;
  registry: HostRegistry;
  runner: CommandRunner;
  store: JobStore;
  queue: Queue<ChangeJobData>;
  hub: JobEventHub;
  logger: Logger;
}

/** Per-request context: the services plus request-scoped memos. */
export interface Context extends GatewayServices {
  requestedBy: string | null;
  /** Observes a host at most once per request, however many fields ask. */
  observe(host: Host): Promise<HostObservation>;
}

// A read of live state must not hang a query on one slow host.
const READ_TIMEOUT_MS = 10_000;

export function createContext(services: GatewayServices, requestedBy: string | null): Context {
  const memo = new Map<string, Promise<HostObservation>>();
  return {
    ...services,
    requestedBy,
    observe(host) {
      let p = memo.get(host.name);
      if (!p) {
        p = observeHost(services.runner, host, Math.min(READ_TIMEOUT_MS, services.config.ssh.commandTimeoutMs));
        memo.set(host.name, p);
      }
      return p;
    },
  };
}

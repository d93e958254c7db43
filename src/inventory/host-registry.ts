import type { InventoryHost } from './inventory-file.ts';

/** What the rest of the code knows about a hypervisor: where it is and how to log in. */
export type Host = InventoryHost;

/**
 * The registry of hypervisors (RedisHostRegistry; the inventory file seeds it).
 */
export interface HostRegistry {
  list(): Promise<Host[]>;
  get(name: string): Promise<Host | undefined>;
}

import type { InventoryHost } from './inventory-file.ts';

/** What the rest of the code knows about a hypervisor: where it is and how to log in. */
export type Host = InventoryHost;

/**
 * The registry of hypervisors (RedisHostRegistry; the inventory file seeds it).
 */
export interface HostRegistry {
  list(): Promise<Host[]>;
  /** undefined when there is no such host; null when its stored record does not validate. */
  get(name: string): Promise<Host | null | undefined>;
}

/** A registry the APIs change: `put` answers whether the host is new, `remove` whether it was there. */
export interface WritableHostRegistry extends HostRegistry {
  put(host: Host): Promise<boolean>;
  remove(name: string): Promise<boolean>;
}

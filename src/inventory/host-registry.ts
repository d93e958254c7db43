import type { InventoryFileSource, InventoryHost } from './inventory-file.ts';

/** What the rest of the code knows about a hypervisor: where it is and how to log in. */
export type Host = InventoryHost;

/**
 * The registry of hypervisors. Today it is backed by the inventory file; the Redis-backed
 * registry (registerHypervisor) implements the same interface.
 */
export interface HostRegistry {
  list(): Promise<Host[]>;
  get(name: string): Promise<Host | undefined>;
}

export class FileHostRegistry implements HostRegistry {
  constructor(private readonly source: InventoryFileSource) {}

  async list(): Promise<Host[]> {
    return (await this.source.load()).hypervisors;
  }

  async get(name: string): Promise<Host | undefined> {
    return (await this.list()).find((h) => h.name === name);
  }
}

import type { Logger } from '../log/logger.ts';
import { InventoryFileSource } from './inventory-file.ts';
import type { RedisHostRegistry } from './redis-host-registry.ts';

/**
 * Seeds the Redis registry from the inventory file, if there is one. A missing file is normal
 * (hosts may be registered through the API only); an invalid one is reported, not fatal.
 */
export async function seedRegistryFromFile(registry: RedisHostRegistry, path: string, logger: Logger): Promise<number> {
  try {
    const inventory = await new InventoryFileSource(path).load();
    const n = await registry.seed(inventory.hypervisors);
    logger.info({ inventory: path, hosts: n }, 'host registry seeded from inventory file');
    return n;
  } catch (err) {
    logger.warn({ inventory: path, err: (err as Error).message }, 'host registry not seeded');
    return 0;
  }
}

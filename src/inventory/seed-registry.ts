import type { Logger } from '../log/logger.ts';
import { InventoryFileSource } from './inventory-file.ts';
import type { RedisHostRegistry } from './redis-host-registry.ts';

/**
 * Seeds the Redis registry from the inventory file, if there is one. A missing file is normal
 * (hosts may be registered through the API only); an invalid one is reported, not fatal.
 * Stored records that no longer validate (left out of every listing) are reported too.
 */
export async function seedRegistryFromFile(registry: RedisHostRegistry, path: string, logger: Logger): Promise<number> {
  let n = 0;
  try {
    const inventory = await new InventoryFileSource(path).load();
    n = await registry.seed(inventory.hypervisors);
    logger.info({ inventory: path, hosts: n }, 'host registry seeded from inventory file');
  } catch (err) {
    logger.warn({ inventory: path, err: (err as Error).message }, 'host registry not seeded');
  }
  const invalid = await registry.listInvalid().catch(() => []);
  if (invalid.length)
    logger.warn(
      { invalid },
      'host registry records that do not validate are left out: register each host again with valid fields, or delete its record',
    );
  return n;
}

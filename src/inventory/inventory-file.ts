import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import {
  DatapathType,
  DOT_NAME_MESSAGE,
  HypervisorName,
  InterfaceName,
  LibvirtName,
  notDotName,
  notOptionLike,
  notOptionLikeParams,
} from '../validation/names.ts';

// Identifiers refuse a leading '-' and '.'/'..' (validation/names.ts); address and user never reach argv
// (ssh2 takes them as values) but are refused alike.
const notOptionOrDot = (s: z.ZodString) => s.refine(notOptionLike, notOptionLikeParams).refine(notDotName, DOT_NAME_MESSAGE);

/** The inventory file `infra/lab.sh up` writes (and an operator may write by hand). */
export const InventoryHost = z.object({
  name: HypervisorName,
  address: notOptionOrDot(z.string().min(1)),
  port: z.number().int().min(1).max(65535).default(22),
  user: notOptionOrDot(z.string().min(1)),
  privateKeyPath: z.string().min(1),
  // null: trust on first use (asked for explicitly): the key the host presents first is pinned.
  hostKeyFingerprint: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must look like SHA256:<base64> (ssh-keygen -lf)')
    .nullable(),
  namespace: z.string().optional(),
  defaults: z
    .object({
      bridge: InterfaceName.default('ovsbr0'),
      uplink: InterfaceName.optional(),
      network: LibvirtName.optional(),
      datapathType: DatapathType.optional(),
    })
    .default({ bridge: 'ovsbr0' }),
});
export type InventoryHost = z.infer<typeof InventoryHost>;

export const InventoryFile = z.object({
  version: z.literal(1),
  hypervisors: z.array(InventoryHost).superRefine((hosts, ctx) => {
    const seen = new Set<string>();
    hosts.forEach((h, i) => {
      if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate hypervisor ${h.name}` });
      seen.add(h.name);
    });
  }),
});
export type InventoryFile = z.infer<typeof InventoryFile>;

/** Parses inventory JSON text; errors name the offending path. */
export function parseInventory(text: string, source = 'inventory'): InventoryFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TrunklineError(ErrorCode.INVENTORY_INVALID, `${source}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = InventoryFile.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new TrunklineError(ErrorCode.INVENTORY_INVALID, `${source}: ${problems}`);
  }
  return parsed.data;
}

/**
 * Reads the inventory file, re-reading only when it changed on disk (the lab rewrites it on `up`).
 */
export class InventoryFileSource {
  private cached: { mtimeMs: number; size: number; inventory: InventoryFile } | undefined;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async load(): Promise<InventoryFile> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(this.path);
    } catch (err) {
      throw new TrunklineError(
        ErrorCode.INVENTORY_INVALID,
        `cannot read inventory ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (run 'infra/lab.sh up' or set TRUNKLINE_INVENTORY)`,
      );
    }
    if (this.cached && this.cached.mtimeMs === st.mtimeMs && this.cached.size === st.size) return this.cached.inventory;
    const inventory = parseInventory(await readFile(this.path, 'utf8'), this.path);
    this.cached = { mtimeMs: st.mtimeMs, size: st.size, inventory };
    return inventory;
  }
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (bench/support/../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Benchmark output goes to .trunkline/bench/, which .gitignore already covers. */
export const RESULTS_DIR = join(ROOT, '.trunkline', 'bench');

export function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, name);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** Facts about the machine, recorded with every result. */
export async function machine(): Promise<Record<string, unknown>> {
  const os = await import('node:os');
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
  };
}

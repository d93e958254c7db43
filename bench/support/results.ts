import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (bench/support/../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Benchmark output goes to .trunkline/bench/, which .gitignore already covers. */
export const RESULTS_DIR = join(ROOT, '.trunkline', 'bench');

export function writeResults(name: string, data: unknown): string {
  return writeResultFile(name, `${JSON.stringify(data, null, 2)}\n`);
}

/** Writes a file of results (JSON, a CPU profile) into RESULTS_DIR, which may not exist yet. */
export function writeResultFile(name: string, contents: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, name);
  writeFileSync(path, contents);
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
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    git: gitState(),
  };
}

/** The commit measured and the code files that differed from it (the figures are of the tree). */
export function gitState(): { head: string | null; uncommittedCodeChanges: string[] } {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return {
      head: git('rev-parse', '--short', 'HEAD').trim(),
      uncommittedCodeChanges: git('status', '--porcelain', '--', 'src', 'graphql', 'rest', 'workers', 'gateway')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(3)),
    };
  } catch {
    return { head: null, uncommittedCodeChanges: [] };
  }
}

/** One line for benchmark headers: which code was measured. */
export function describeGit(): string {
  const g = gitState();
  const dirty = g.uncommittedCodeChanges;
  return `code: HEAD ${g.head ?? '?'}${dirty.length ? ` + uncommitted changes in ${dirty.length} file(s) under src/ graphql/ rest/ workers/ gateway/ (${dirty.slice(0, 6).join(', ')}${dirty.length > 6 ? ', ...' : ''})` : ', no uncommitted changes in src/ graphql/ rest/ workers/ gateway/'}`;
}

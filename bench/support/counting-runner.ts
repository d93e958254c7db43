import type { Host } from '../../src/inventory/host-registry.ts';
import type { BatchCommand } from '../../src/ssh/command-batch.ts';
import type { BatchExecOptions, CommandRunner, ExecOptions, ExecResult } from '../../src/ssh/runner.ts';

/** One exec as the decorator saw it (times from performance.now()). */
export interface ExecRecord {
  command: string;
  /** When the caller asked for the exec. */
  issuedAt: number;
  /** When the caller got the result (or the error). */
  endedAt: number;
  /**
   * How long the command ran on its channel (ExecResult.durationMs: channel open to close),
   * excluding the wait for a free channel; the whole issued→ended time for failures.
   */
  runMs: number;
  ok: boolean;
  stdoutBytes: number;
}

/**
 * A stable label for a command line: object names, UUIDs and batch markers vary between runs,
 * so per-object commands keep their first four words and virsh batches are summarized.
 */
export function describeArgv(argv: readonly string[]): string {
  const batch = argv[0] === 'virsh' ? argv.find((a) => a.includes('; ')) : undefined;
  if (batch) {
    const kinds = new Map<string, number>();
    for (const c of batch.split('; ')) {
      const verb = c.trim().split(/\s+/)[0] ?? '';
      if (verb !== 'echo') kinds.set(verb, (kinds.get(verb) ?? 0) + 1);
    }
    return `virsh batch [${[...kinds].map(([k, n]) => (n > 1 ? `${n}x ${k}` : k)).join(', ')}]`;
  }
  if (argv[0] === 'ovs-vsctl' && argv.includes('--format=json')) return 'ovs-vsctl list Bridge/Port/Interface (JSON)';
  return argv.slice(0, 4).join(' ');
}

/**
 * A CommandRunner decorator that records every exec, so a benchmark can count commands and
 * sequential round trips of code that takes a CommandRunner (readHostState) without touching it.
 * It never closes the runner it wraps.
 */
export class CountingRunner implements CommandRunner {
  private records: ExecRecord[] = [];
  /** The last stdout of each command label (with its argv), to replay parsers offline. */
  readonly lastOutput = new Map<string, { argv: readonly string[]; stdout: string }>();

  private readonly inner: CommandRunner;

  constructor(inner: CommandRunner) {
    this.inner = inner;
  }

  async exec(host: Host, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const issuedAt = performance.now();
    const command = describeArgv(argv);
    try {
      const result = await this.inner.exec(host, argv, options);
      this.records.push({
        command,
        issuedAt,
        endedAt: performance.now(),
        runMs: result.durationMs,
        ok: true,
        stdoutBytes: Buffer.byteLength(result.stdout),
      });
      this.lastOutput.set(command, { argv, stdout: result.stdout });
      return result;
    } catch (err) {
      const endedAt = performance.now();
      this.records.push({ command, issuedAt, endedAt, runMs: endedAt - issuedAt, ok: false, stdoutBytes: 0 });
      throw err;
    }
  }

  /** A batch is one exec (one round trip), labelled by its commands. */
  async execBatch(host: Host, commands: readonly BatchCommand[], options?: BatchExecOptions): Promise<ExecResult[]> {
    const issuedAt = performance.now();
    const command = `batch [${commands.map((c) => describeArgv(c.argv)).join('; ')}]`;
    try {
      const results = await this.inner.execBatch(host, commands, options);
      const stdoutBytes = results.reduce((n, r) => n + Buffer.byteLength(r.stdout), 0);
      this.records.push({ command, issuedAt, endedAt: performance.now(), runMs: results[0]?.durationMs ?? 0, ok: true, stdoutBytes });
      return results;
    } catch (err) {
      const endedAt = performance.now();
      this.records.push({ command, issuedAt, endedAt, runMs: endedAt - issuedAt, ok: false, stdoutBytes: 0 });
      throw err;
    }
  }

  async close(): Promise<void> {
    // The wrapped runner belongs to the caller.
  }

  /** Returns the records since the last take() and starts a new list. */
  take(): ExecRecord[] {
    const out = this.records;
    this.records = [];
    return out;
  }
}

// Channel start times are estimated from a rounded durationMs (±0.5 ms) and the decorator sees
// completions a few microtasks late; execs shorter than this do not exist over SSH.
const SLACK_MS = 2;

/**
 * Sequential round trips of a set of execs: the length of the longest chain e1 → e2 → ... in
 * which each exec began after the previous one had finished.
 * - `logical`: "began" = issued by the caller. The dependency depth the code itself has
 *   (readHostState: 2; a sequential script: one per exec; fire-everything-at-once: 1-3).
 * - `asRun`: "began" = its channel opened (ended − runMs). Also counts the waits imposed by the
 *   pool's channel limit: 200 execs issued at once on 4 channels run as ~50 waves.
 */
export function roundTrips(records: readonly ExecRecord[]): { logical: number; asRun: number } {
  const depth = (startOf: (r: ExecRecord) => number, slack: number): number => {
    const sorted = [...records].sort((a, b) => startOf(a) - startOf(b));
    const d: number[] = [];
    let best = 0;
    sorted.forEach((r, i) => {
      let before = 0;
      for (let j = 0; j < i; j++) if (sorted[j]!.endedAt <= startOf(r) + slack) before = Math.max(before, d[j]!);
      d[i] = before + 1;
      best = Math.max(best, d[i]!);
    });
    return best;
  };
  return { logical: depth((r) => r.issuedAt, 0), asRun: depth((r) => r.endedAt - r.runMs, SLACK_MS) };
}

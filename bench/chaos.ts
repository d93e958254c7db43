/**
 * bench:chaos — the chaos runner at its default size (issue 13): a lab of its own (tlc,
 * 198.18.46.0/24, 3 hosts), a private redis-server with AOF, 2 gateways and 3 workers as
 * processes, BENCH_CHAOS_JOBS change jobs through both gateways while faults are injected on a
 * seeded schedule, then the history check (test/support/chaos/history.ts). Prints the figures
 * and the final line; exits non-zero when the check fails. BENCH_CHAOS_SEED replays a run.
 */
import { join } from 'node:path';
import type { FaultKind } from '../test/support/chaos/faults.ts';
import { seedFrom } from '../test/support/chaos/prng.ts';
import { runChaos } from '../test/support/chaos/runner.ts';
import { onCleanup, runBenchmark, runCleanups } from './support/cleanup.ts';
import { envInt } from './support/env.ts';
import { describeGit, machine, RESULTS_DIR, writeResults } from './support/results.ts';

runBenchmark('bench:chaos', async () => {
  const seed = seedFrom(process.env.BENCH_CHAOS_SEED);
  const jobs = envInt('BENCH_CHAOS_JOBS', 300);
  const scale = (name: string, def: number) => envInt(`BENCH_CHAOS_${name}`, def, 0);
  const faults: Record<FaultKind, number> = {
    'worker-kill': scale('WORKER_KILLS', 20),
    'worker-stop': scale('WORKER_STOPS', 4),
    'redis-restart': scale('REDIS_RESTARTS', 3),
    'redis-unreachable': scale('REDIS_OUTAGES', 1),
    'gateway-kill': scale('GATEWAY_KILLS', 2),
    'sshd-kill': scale('SSHD_KILLS', 2),
    'session-cut': scale('SESSION_CUTS', 2),
    'host-freeze': scale('HOST_FREEZES', 2),
    'link-down': scale('LINK_DOWNS', 2),
    'ovsdb-restart': scale('OVSDB_RESTARTS', 2),
    'libvirtd-restart': scale('LIBVIRTD_RESTARTS', 2),
  };
  console.log(`bench:chaos: seed ${seed} (replay: BENCH_CHAOS_SEED=${seed}); ${describeGit()}`);
  const logDir = join(RESULTS_DIR, `chaos-logs-${seed}`);
  const result = await runChaos(
    {
      seed,
      jobs,
      faults,
      labName: 'tlc',
      labNet: 46,
      hosts: 3,
      lockMs: envInt('BENCH_CHAOS_LOCK_MS', 3000, 1000),
      commandTimeoutMs: envInt('BENCH_CHAOS_COMMAND_TIMEOUT_MS', 12_000, 11_000),
      faultGapMs: [envInt('BENCH_CHAOS_FAULT_GAP_MIN_MS', 500, 0), envInt('BENCH_CHAOS_FAULT_GAP_MAX_MS', 2500, 0)],
      settleMs: envInt('BENCH_CHAOS_SETTLE_MS', 120_000),
      logDir,
      sseEvery: envInt('BENCH_CHAOS_SSE_EVERY', 3),
      aimMs: envInt('BENCH_CHAOS_AIM_MS', 2000, 0),
      print: (l) => console.log(l),
    },
    onCleanup,
  );
  console.log('\nfigures:');
  for (const [k, v] of Object.entries(result.figures)) console.log(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  if (result.violations.length) {
    console.log(`\nhistory check FAILED: ${result.violations.length} violation(s):`);
    for (const v of result.violations.slice(0, 200)) console.log(`  - ${v}`);
  } else console.log('\nhistory check passed');
  const file = writeResults(`chaos-${seed}.json`, { machine: await machine(), ...result });
  console.log(`results: ${file}; process logs: ${logDir}`);
  if (result.violations.length) {
    // Cleanups first (lab, processes, Redis), then the final line, then a failing exit.
    await runCleanups();
    console.log(result.finalLine);
    process.exit(1);
  }
  console.log(result.finalLine);
});

import type { ExecResult } from '../../src/ssh/runner.ts';
import { checkCancel, StepFailed, type HostStepsContext, type RunState, type Work } from './state.ts';

const keyOf = (argv: readonly string[]) => argv.join('\0');

/**
 * One batch of probes (identical commands run once); each work gets a fresh read. `along`:
 * more read-only commands for the same batch, whose results are handed over first. `pre`:
 * results already in hand for some commands (not run again).
 */
export async function observe(
  run: RunState,
  ws: Work[],
  along?: HostStepsContext['readAlong'],
  pre?: ReadonlyMap<string, ExecResult>,
): Promise<void> {
  if (!ws.length) return;
  const { ctx } = run;
  const unique = [
    ...new Map(
      [...ws.map((w) => w.planned.probe.argv), ...(along?.commands.map((c) => c.argv) ?? [])].map((argv) => [keyOf(argv), argv]),
    ).entries(),
  ];
  const toRun = unique.filter(([k]) => !pre?.has(k));
  let results: ExecResult[] = [];
  try {
    if (toRun.length)
      results = await ctx.runner.execBatch(
        ctx.host,
        toRun.map(([, argv]) => ({ argv })),
      );
  } catch (err) {
    throw StepFailed.from(ws[0]!, err);
  }
  const byKey = new Map([...(pre ?? []), ...toRun.map(([k], i): [string, ExecResult] => [k, results[i]!])]);
  if (along) {
    try {
      await along.done(along.commands.map((c) => byKey.get(keyOf(c.argv))!));
      run.refreshed = true;
    } catch {
      // The caller re-reads the host on its own when the read along did not make it.
    }
  }
  for (const w of ws) {
    try {
      w.read = w.kind.read(byKey.get(keyOf(w.planned.probe.argv))!, w.planned);
    } catch (err) {
      throw StepFailed.from(w, err);
    }
  }
}

/**
 * Phase 1, probe: every step observed at once (reusing what the planning read ran), and whether
 * the host still is what the plan was made from.
 */
export async function probeAll(run: RunState): Promise<void> {
  await checkCancel(run);
  await observe(run, run.works, undefined, run.ctx.preobserved);
  run.cacheAgreed = run.works.every((w) => w.read!.value === w.planned.observed);
}

import type { PlanStep } from './plan.ts';

/**
 * How the executed plan differs from the one shown at submission, in words; null when it is
 * the same (same steps, each expected to change the same way).
 */
export function planDifference(submitted: readonly PlanStep[], executed: readonly PlanStep[]): string | null {
  const sig = (s: PlanStep) => `${s.description}\u0000${s.wanted}`;
  const before = submitted.map(sig);
  const after = executed.map(sig);
  const sameSteps = before.length === after.length && before.every((s, i) => s === after[i]);
  const count = (ss: readonly PlanStep[]) =>
    `${ss.length} step${ss.length === 1 ? '' : 's'}, ${ss.filter((s) => s.changes !== false).length} to change`;
  if (!sameSteps) {
    const added = executed.filter((s) => !before.includes(sig(s))).map((s) => s.description);
    const dropped = submitted.filter((s) => !after.includes(sig(s))).map((s) => s.description);
    const parts = [added.length ? `now also: ${added.join('; ')}` : '', dropped.length ? `no longer: ${dropped.join('; ')}` : ''].filter(
      Boolean,
    );
    return `differs from the plan shown at submission (${count(submitted)}, from the cache): ${parts.join('; ') || 'the same steps in another order'}`;
  }
  const flipped = executed.filter((s, i) => submitted[i]!.changes !== null && s.changes !== submitted[i]!.changes);
  if (!flipped.length) return null;
  return `the host differed from the cache the plan shown at submission came from: ${flipped.map((s) => `${s.description} ${s.changes ? 'needs a change now' : 'is already as wanted'}`).join('; ')}`;
}

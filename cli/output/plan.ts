import type { Plan, PlanStep } from '../api.ts';
import type { Paint } from './style.ts';

/*
 * A plan as a person reads it before saying yes: per host, each step with what the cache says
 * now, whether it would change, and the exact command the host's shell would receive.
 */

function verdict(step: PlanStep, paint: Paint): string {
  if (step.wouldChange === null) return `${paint('yellow', 'unknown')} (the host was not read yet): wants ${step.wanted}`;
  if (step.wouldChange) return `${paint('yellow', 'would change')}: ${step.observed ?? 'absent'} → ${step.wanted}`;
  return `${paint('green', 'already so')}: ${step.wanted}`;
}

export function renderPlan(plan: Plan, paint: Paint, heading = 'dry run: nothing was queued'): string {
  const changing = plan.steps.filter((s) => s.wouldChange !== false).length;
  const lines = [
    `${paint('bold', `Plan: ${plan.kind} on ${plan.hypervisors.join(', ')}`)} (${heading})`,
    `${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}, ${changing} would change (judged from the cache; the worker checks each step on the host again)`,
  ];
  for (const host of [...new Set(plan.steps.map((s) => s.host))]) {
    lines.push('', paint('bold', host));
    plan.steps
      .filter((s) => s.host === host)
      .forEach((s, i) => {
        lines.push(`  ${i + 1}. ${s.description}`);
        lines.push(`     ${verdict(s, paint)}`);
        lines.push(
          s.command === null ? `     ${paint('gray', `reads only: ${s.probeCommand}`)}` : `     ${paint('cyan', `$ ${s.command}`)}`,
        );
      });
  }
  return `${lines.join('\n')}\n`;
}

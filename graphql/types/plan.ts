import { builder } from '../builder.ts';
import type { Plan, PlanStep } from '../../src/changes/plan.ts';
import { toShellCommand } from '../../src/ssh/quote.ts';
import { JobKindEnum } from './vocabularies.ts';

export const PlanStepRef = builder.objectRef<PlanStep>('PlanStep').implement({
  description: 'One idempotent step: observe with probeCommand, act with command only if the value differs from wanted.',
  fields: (t) => ({
    host: t.exposeString('host'),
    description: t.exposeString('description'),
    subject: t.exposeString('subject', { description: 'The object the step is about (bridge, port, ...).' }),
    observed: t.exposeString('observed', {
      nullable: true,
      description: 'The value in the cache at planning time; null if the host was never read.',
    }),
    wouldChange: t.exposeBoolean('changes', {
      nullable: true,
      description: 'Whether the step would change the host, judged from the cache (the worker re-checks live).',
    }),
    command: t.string({
      nullable: true,
      description: 'null for read-only steps.',
      resolve: (s) => s.display ?? (s.apply ? toShellCommand(s.apply.argv) : null),
    }),
    argv: t.stringList({ nullable: true, resolve: (s) => s.apply?.argv ?? null }),
    probeCommand: t.string({ resolve: (s) => toShellCommand(s.probe.argv) }),
    wanted: t.exposeString('wanted'),
  }),
});

export const PlanRef = builder.objectRef<Plan>('Plan').implement({
  description: 'What a change will do, step by step. Returned alone by dryRun.',
  fields: (t) => ({
    kind: t.field({ type: JobKindEnum, resolve: (p) => p.kind }),
    hypervisors: t.exposeStringList('hypervisors'),
    steps: t.field({ type: [PlanStepRef], resolve: (p) => p.steps }),
  }),
});

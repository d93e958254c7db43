import type { JobEvent, JobStep } from '../api.ts';
import type { JobProgressModel } from '../progress.ts';
import { type Paint, paintState } from './style.ts';

/*
 * A job's events as step lines, the way a log reads them: each finished step with where it is
 * in its host's plan, whether it changed something and how long it took; a failed one with its
 * command, exit code and what it printed. Printed above the progress bars on a terminal, alone
 * otherwise (a CI log, a pipe).
 */

/** What a finished step did, in one word. */
export function stepWord(step: Pick<JobStep, 'state' | 'changed'>): string {
  if (step.state === 'SUCCEEDED') return step.changed ? 'changed' : 'ok';
  if (step.state === 'SKIPPED') return 'skipped';
  return step.state;
}

const WORD_WIDTH = 'changed'.length;

/** `hv1: done` → `done`: the lines are prefixed with the host already. */
const withoutHost = (message: string, host: string) => (message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message);

const firstLines = (text: string | null, n = 3) =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(0, n);

/**
 * The lines of one event ([] for those the bars or the outcome show: a step starting, the job's
 * end). `hostWidth` aligns the host column.
 */
export function eventLines(e: JobEvent, model: JobProgressModel, paint: Paint, hostWidth: number): string[] {
  const host = e.step?.host ?? e.hypervisor;
  const prefix = (h: string | null) => paint('bold', (h ?? 'job').padEnd(hostWidth));
  switch (e.type) {
    case 'QUEUED':
    case 'STARTED':
      return [`${prefix(null)}  ${e.message}`];
    case 'HOST_STARTED':
    case 'HOST_PLANNED':
    case 'WAITING':
    case 'HOST_INTERRUPTED':
      return [`${prefix(host)}  ${withoutHost(e.message, host ?? '')}`];
    case 'HOST_FINISHED': {
      const state = e.error ? 'FAILED' : 'done';
      return [`${prefix(host)}  ${paintState(paint, state === 'done' ? 'SUCCEEDED' : state)}: ${withoutHost(e.message, host ?? '')}`];
    }
    case 'STEP_FINISHED': {
      if (!e.step) return [];
      const s = e.step;
      const { n, total } = model.position(s.host, s.index);
      const word = stepWord(s);
      const time = s.durationMs === null ? '' : ` ${paint('gray', `(${s.durationMs} ms)`)}`;
      const lines = [
        `${prefix(s.host)}  [${n}/${total}] ${paintState(paint, word)}${' '.repeat(Math.max(2, WORD_WIDTH + 2 - word.length))}${s.description}${time}`,
      ];
      const indent = ' '.repeat(hostWidth + 2 + `[${n}/${total}] `.length);
      if (s.warning) lines.push(`${indent}${paint('yellow', `warning: ${s.warning}`)}`);
      if (s.state === 'FAILED') {
        if (s.command) lines.push(`${indent}${paint('cyan', `$ ${s.command}`)}`);
        lines.push(`${indent}exit ${s.exitCode ?? '?'}${s.observed !== null ? `, observed: ${s.observed}` : ''}`);
        for (const l of [...firstLines(s.stderr), ...firstLines(s.stdout, 1)]) lines.push(`${indent}${paint('red', l)}`);
      }
      return lines;
    }
    case 'STEP_ROLLED_BACK':
      return [`${prefix(host)}  ${paint('yellow', 'rolled back')}: ${e.step?.description ?? e.message}`];
    default:
      return [];
  }
}

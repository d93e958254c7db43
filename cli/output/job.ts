import type { Job } from '../api.ts';
import { JOB_HOST_COLUMNS, VERIFY_COLUMNS } from './columns.ts';
import { stepWord } from './events.ts';
import { type Paint, paintState } from './style.ts';
import { renderTable } from './table.ts';

/*
 * Jobs as text: the line an accepted change prints, the outcome a wait ends with, and `job
 * show` (every step with its command, the rollback, the verification matrix).
 */

const seconds = (job: Job) =>
  job.startedAt && job.finishedAt ? ` in ${((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000).toFixed(1)} s` : '';

const about = (job: Job) => `${job.kind} on ${job.hypervisors.join(', ')}${job.ticketRef ? `, ticket ${job.ticketRef}` : ''}`;

/** The line an accepted change starts with. */
export const acceptedLine = (job: Job, paint: Paint, replayed = false) =>
  `${replayed ? 'Already accepted (same Idempotency-Key): job' : 'Accepted: job'} ${paint('bold', job.id)} (${about(job)}): ${paintState(paint, job.state)}`;

export function renderAccepted(job: Job, paint: Paint, replayed = false): string {
  return `${acceptedLine(job, paint, replayed)}\nFollow it: trunkline job watch ${job.id}\n`;
}

function failureLines(job: Job, paint: Paint): string[] {
  const lines: string[] = [];
  if (job.error) lines.push(`${paint('red', 'error')}: ${job.error.code}: ${job.error.message}`);
  const failed = job.steps.filter((s) => s.state === 'FAILED');
  for (const s of failed) {
    lines.push(`  failed step on ${s.host}: ${s.description}`);
    if (s.command) lines.push(`    ${paint('cyan', `$ ${s.command}`)}`);
    lines.push(`    exit ${s.exitCode ?? '?'}`);
    for (const l of (s.stderr ?? '')
      .split('\n')
      .filter((x) => x.trim())
      .slice(0, 5))
      lines.push(`    ${paint('red', l)}`);
  }
  for (const r of job.rollback) lines.push(`  rollback on ${r.host}: ${paintState(paint, r.state)}: ${r.description}: ${r.message}`);
  return lines;
}

function verificationLines(job: Job, paint: Paint): string[] {
  return job.verification ? ['', ...verificationMatrix(job.verification, paint)] : [];
}

/** A verification's verdict and its ping matrix (a verifyVlan job's, a VLAN's last). */
export function verificationMatrix(v: NonNullable<Job['verification']>, paint: Paint): string[] {
  const head = `VLAN ${v.tag} ${v.ok ? paint('green', 'works') : paint('red', 'does not work as expected')}${
    v.isolationFrom.length ? ` (isolated from ${v.isolationFrom.join(', ')})` : ''
  }`;
  return [head, renderTable(VERIFY_COLUMNS, v.results, paint).trimEnd()];
}

/** How a job ended (or where it is, after a timeout): the state, per host, the failure, the verification. */
export function renderOutcome(job: Job, paint: Paint): string {
  const lines = [`Job ${paint('bold', job.id)} ${paintState(paint, job.state)}${seconds(job)} (${about(job)})`];
  // A failure's progress message is its error, printed below with the failed step.
  if (job.progress.message && job.progress.message !== job.error?.message) lines.push(`  ${job.progress.message}`);
  if (job.hosts.length > 1 || job.state !== 'SUCCEEDED') lines.push(renderTable(JOB_HOST_COLUMNS, job.hosts, paint).trimEnd());
  lines.push(...failureLines(job, paint), ...verificationLines(job, paint));
  return `${lines.join('\n')}\n`;
}

/** `job show`: the outcome, then every step with its command and output. */
export function renderJob(job: Job, paint: Paint): string {
  const lines = [renderOutcome(job, paint).trimEnd(), '', paint('bold', 'Steps')];
  for (const s of job.steps) {
    const word = s.state === 'SUCCEEDED' || s.state === 'FAILED' || s.state === 'SKIPPED' ? stepWord(s) : s.state;
    const time = s.durationMs === null ? '' : ` (${s.durationMs} ms)`;
    lines.push(`  ${s.host} ${s.index + 1}. ${paintState(paint, word)}  ${s.description}${time}`);
    lines.push(
      s.command === null ? `       ${paint('gray', `reads only: ${s.probeCommand}`)}` : `       ${paint('cyan', `$ ${s.command}`)}`,
    );
    if (s.warning) lines.push(`       ${paint('yellow', `warning: ${s.warning}`)}`);
    if (s.state === 'FAILED') for (const l of (s.stderr ?? '').split('\n').filter((x) => x.trim())) lines.push(`       ${paint('red', l)}`);
  }
  return `${lines.join('\n')}\n`;
}

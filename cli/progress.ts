import type { Job, JobEvent, JobStep } from './api.ts';

/*
 * Per-host progress of a job, from its events (and from the job record, fetched again when a
 * host is planned or finished: a host's plan is made from the host when its turn comes and may
 * differ from the one shown at submission, and HOST_FINISHED does not say how the host ended).
 * Pure: the renderers (cli/output/events.ts, cli/wait.ts) read it.
 */

const FINISHED_STEP = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);

export interface HostProgress {
  host: string;
  /** PENDING, RUNNING, WAITING, SUCCEEDED, FAILED, CANCELLED. */
  state: string;
  /** The host's steps (job-wide indices), in order. */
  steps: number[];
  /** State of each step this far, by index. */
  stepStates: Map<number, string>;
  changed: number;
  /** The running step's description. */
  current: string | null;
  message: string;
}

export class JobProgressModel {
  readonly hosts = new Map<string, HostProgress>();
  state: string;

  constructor(job: Job) {
    this.state = job.state;
    this.sync(job);
  }

  /** Takes what the job record knows: each host's steps, their states, the hosts' states. */
  sync(job: Job): void {
    for (const name of job.hypervisors) this.host(name);
    const byHost = new Map<string, JobStep[]>();
    for (const s of job.steps) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
    for (const [name, steps] of byHost) {
      const h = this.host(name);
      h.steps = steps.map((s) => s.index).sort((a, b) => a - b);
      for (const s of steps)
        if (FINISHED_STEP.has(s.state) && !FINISHED_STEP.has(h.stepStates.get(s.index) ?? '')) {
          h.stepStates.set(s.index, s.state);
          if (s.changed) h.changed++;
        }
    }
    for (const run of job.hosts) {
      const h = this.host(run.hypervisor);
      // A host that ended stays ended; the record may be a moment older than the events.
      if (!isEnded(h.state) || isEnded(run.state)) h.state = run.state;
      if (run.message) h.message = run.message;
    }
    if (isEnded(job.state) || !isEnded(this.state)) this.state = job.state;
  }

  apply(e: JobEvent): void {
    this.state = e.state;
    const name = e.step?.host ?? e.hypervisor;
    if (!name) return;
    const h = this.host(name);
    if (e.message) h.message = e.message;
    switch (e.type) {
      case 'HOST_STARTED':
      case 'HOST_PLANNED':
        h.state = 'RUNNING';
        break;
      case 'WAITING':
        h.state = 'WAITING';
        break;
      case 'STEP_STARTED':
        if (!isEnded(h.state)) h.state = 'RUNNING';
        h.current = e.step?.description ?? null;
        if (e.step) this.know(h, e.step.index);
        break;
      case 'STEP_FINISHED':
        h.current = null;
        if (e.step) {
          this.know(h, e.step.index);
          if (!FINISHED_STEP.has(h.stepStates.get(e.step.index) ?? '') && e.step.changed) h.changed++;
          h.stepStates.set(e.step.index, e.step.state);
        }
        break;
      case 'HOST_FINISHED':
        h.current = null;
        // Provisional until the record says (sync): an error means the host failed.
        h.state = e.error ? 'FAILED' : /cancel/i.test(e.message) ? 'CANCELLED' : 'SUCCEEDED';
        break;
      default:
    }
  }

  /** Where a step is among its host's: 1-based, of how many. */
  position(host: string, index: number): { n: number; total: number } {
    const h = this.host(host);
    const at = h.steps.indexOf(index);
    return { n: at === -1 ? h.steps.length : at + 1, total: h.steps.length };
  }

  done(host: string): number {
    const h = this.host(host);
    return h.steps.filter((i) => FINISHED_STEP.has(h.stepStates.get(i) ?? '')).length;
  }

  private host(name: string): HostProgress {
    let h = this.hosts.get(name);
    if (!h)
      this.hosts.set(
        name,
        (h = { host: name, state: 'PENDING', steps: [], stepStates: new Map(), changed: 0, current: null, message: '' }),
      );
    return h;
  }

  private know(h: HostProgress, index: number): void {
    if (!h.steps.includes(index)) h.steps = [...h.steps, index].sort((a, b) => a - b);
  }
}

const isEnded = (state: string) => state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';

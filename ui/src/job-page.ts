import { ApiError } from './api.ts';
import type { App, Page } from './app.ts';
import { badge, h, replace } from './dom.ts';
import { clock, jobUuid } from './format.ts';
import { applyEvent, type EventLine, type HostView, jobView, mayCancel, mergeEvents, type StepView } from './jobs-model.ts';
import { CANCEL_JOB, JOB, JOB_PROGRESS } from './queries.ts';
import type { JobDetail, JobEventData, JobLive } from './types.ts';
import { code, empty, gridSummary, output, progressBar, section, since, table, verificationTable } from './views.ts';

/*
 * One job, live (#/jobs/<id>): read once, then followed with jobProgress (which replays what
 * already happened and ends with the job); every event carries the job as it is now, which is
 * drawn again: per-host progress, each host's steps with their commands and output, the
 * rollback, a verification's matrix, and the event log.
 */

type JobWithEvents = JobDetail & { events: EventLine[] };

export function jobPage(app: App, id: string): Page {
  const body = h('div', { class: 'job-body' }, empty('Loading…'));
  const el = h('div', { class: 'page job', 'data-testid': 'job-page' }, body);
  let job: JobDetail | null = null;
  let log: EventLine[] = [];
  let following = false;
  let sub: { close(): void } | null = null;
  /** <details> the operator opened stay open across redraws. */
  const open = new Set<string>();

  const details = (key: string, summary: string, ...children: HTMLElement[]) => {
    const d = h('details', { open: open.has(key) }, h('summary', {}, summary), ...children);
    d.addEventListener('toggle', () => (d.open ? open.add(key) : open.delete(key)));
    return d;
  };

  function stepRow(s: StepView): HTMLElement {
    return h(
      'li',
      { class: `step s-${s.state.toLowerCase()}`, 'data-step': s.index },
      h(
        'div',
        { class: 'step-head' },
        h('span', { class: 'step-index' }, `#${s.index}`),
        badge(s.state),
        h('span', { class: 'step-desc' }, s.description),
        s.changed === true
          ? h('span', { class: 'chip s-running' }, 'changed')
          : s.changed === false
            ? h('span', { class: 'chip' }, 'no change')
            : null,
        s.exitCode !== null ? h('span', { class: s.exitCode ? 'warn small' : 'muted small' }, `exit ${s.exitCode}`) : null,
        s.duration ? h('span', { class: 'muted small' }, s.duration) : null,
      ),
      s.command ? h('div', { class: 'step-cmd' }, h('span', { class: 'output-label' }, 'command'), code(s.command)) : null,
      h(
        'div',
        { class: 'step-meta' },
        h('span', {}, 'observed ', h('span', { class: 'mono' }, s.observed ?? '–')),
        h('span', {}, ' → wanted ', h('span', { class: 'mono' }, s.wanted)),
      ),
      s.warning ? h('p', { class: 'warn small' }, `warning: ${s.warning}`) : null,
      output('stdout', s.stdout, 'stdout'),
      output('stderr', s.stderr, 'stderr'),
      details(`probe:${s.index}`, 'probe command', code(s.probeCommand)),
    );
  }

  function hostCard(hv: HostView): HTMLElement {
    return h(
      'section',
      { class: `panel host-card s-${hv.state.toLowerCase()}`, 'data-host': hv.host, 'data-state': hv.state },
      h(
        'div',
        { class: 'host-head' },
        h('h2', {}, hv.host),
        badge(hv.state),
        progressBar(hv.percent, hv.state),
        h(
          'span',
          { class: 'muted small' },
          `${hv.done}/${hv.total} steps · ${hv.changed} changed · `,
          hv.state === 'RUNNING' ? since(hv.startedAt, hv.duration) : hv.duration,
        ),
      ),
      hv.message ? h('p', { class: 'small' }, hv.message) : null,
      hv.error ? h('p', { class: 'alert' }, hv.error) : null,
      hv.planNote ? h('p', { class: 'warn small' }, `plan changed at run time: ${hv.planNote}`) : null,
      hv.waitingFor
        ? h(
            'p',
            { class: 'small' },
            'waiting for ',
            h('a', { href: `#/jobs/${encodeURIComponent(hv.waitingFor)}` }, 'the job before it on this host'),
          )
        : null,
      hv.attempts.length > 1
        ? details(
            `attempts:${hv.host}`,
            `${hv.attempts.length} attempts`,
            table(
              ['#', 'worker', 'outcome', 'reason', 'started', 'ended'],
              hv.attempts.map((a) => [String(a.number), a.worker, badge(a.outcome), a.reason ?? '–', clock(a.startedAt), clock(a.endedAt)]),
            ),
          )
        : null,
      hv.steps.length
        ? h('ol', { class: 'steps' }, hv.steps.map(stepRow))
        : empty(hv.state === 'PENDING' ? 'Waiting for its turn on the host.' : 'No steps.'),
    );
  }

  function render(): void {
    if (!job) return;
    const v = jobView(job, Date.now());
    replace(
      body,
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, h('a', { href: '#/jobs', class: 'muted' }, 'Jobs'), ' / ', v.title),
        h(
          'div',
          { class: 'chips' },
          badge(v.state),
          following ? h('span', { class: 'chip s-running', 'data-testid': 'job-live' }, 'live') : null,
          v.cancelRequested && !v.terminal ? h('span', { class: 'chip s-failed' }, 'cancel requested') : null,
          v.cancellable && mayCancel(app.caller(), job)
            ? h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel job')
            : null,
        ),
      ),
      h(
        'div',
        { class: 'summary panel', 'data-testid': 'job-summary', 'data-state': v.state },
        progressBar(v.percent, v.state),
        h(
          'dl',
          { class: 'facts' },
          fact('state', badge(v.state)),
          fact('kind', v.kind),
          fact('progress', v.progressText),
          fact('ticket', v.ticketRef ?? '–'),
          fact('requested by', v.requestedBy ?? '–'),
          fact('created', clock(v.createdAt)),
          fact('took', v.terminal ? v.duration : since(job.startedAt, v.duration)),
          fact('id', h('span', { class: 'mono small', title: `GraphQL id ${v.id}` }, jobUuid(v.id))),
        ),
        v.error ? h('p', { class: 'alert', 'data-testid': 'job-error' }, v.error) : null,
      ),
      h('div', { class: 'host-cards' }, v.hosts.map(hostCard)),
      v.rollback.length
        ? section(
            'Rollback',
            h('p', { class: 'help' }, 'Applied steps undone after a later step failed, most recent first.'),
            table(
              ['step', 'host', 'what', 'command', 'state', 'message'],
              v.rollback.map((r) => [`#${r.step}`, r.host, r.description, r.command ? code(r.command) : '–', badge(r.state), r.message]),
              { 'data-testid': 'job-rollback' },
            ),
          )
        : null,
      v.verification
        ? section(`Verification of VLAN ${v.verification.tag}`, gridSummary(v.verification), verificationTable(v.verification))
        : null,
      section(
        'Events',
        log.length
          ? h(
              'ol',
              { class: 'events', 'data-testid': 'job-events' },
              log.map((e) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'mono muted small' }, clock(e.at).slice(11)),
                  ' ',
                  badge(e.type.startsWith('STEP') || e.type.startsWith('HOST') ? 'INFO' : e.state, e.type),
                  e.hypervisor ? h('strong', {}, ` ${e.hypervisor}`) : null,
                  ` ${e.message}`,
                ),
              ),
            )
          : empty('No events yet.'),
      ),
    );
  }

  function fact(term: string, value: string | HTMLElement): HTMLElement[] {
    return [h('dt', {}, term), h('dd', {}, value)];
  }

  async function cancel(): Promise<void> {
    if (!job) return;
    try {
      const r = await app.api.query<{ cancelJob: { userErrors: Array<{ code: string; message: string }> } }>(CANCEL_JOB, { id: job.id });
      const e = r.cancelJob.userErrors[0];
      if (e) app.fail(new ApiError(e.code === 'FORBIDDEN' ? 'forbidden' : 'request', `${e.code}: ${e.message}`, null, e.code));
    } catch (err) {
      app.fail(err);
    }
  }

  function follow(): void {
    following = true;
    sub = app.subscribe<{ jobProgress: JobEventData<JobLive> }>({
      document: JOB_PROGRESS,
      variables: () => ({ id }),
      onNext: ({ jobProgress: e }) => {
        log = mergeEvents(log, [e]);
        if (!job) return;
        const applied = applyEvent(job, e);
        job = applied.job;
        render();
        if (applied.readAgain) void read();
      },
      onComplete: () => {
        following = false;
        render();
      },
    });
  }

  /** The whole job (coalesced: one read at a time, one more if asked meanwhile). */
  let reading = false;
  let readAgain = false;
  async function read(): Promise<void> {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      const data = await app.api.query<{ job: JobWithEvents | null }>(JOB, { id });
      if (data.job) {
        const { events, ...rest } = data.job;
        job = rest;
        log = mergeEvents(log, events);
        render();
      }
    } catch (err) {
      app.fail(err);
    } finally {
      reading = false;
      if (readAgain) {
        readAgain = false;
        void read();
      }
    }
  }

  app.api
    .query<{ job: JobWithEvents | null }>(JOB, { id })
    .then((data) => {
      if (!data.job) {
        replace(
          body,
          h('div', { class: 'page-head' }, h('h1', {}, 'Job not found')),
          empty(`No job ${id} (or not visible to this token; jobs are kept for a while).`),
        );
        return;
      }
      const { events, ...rest } = data.job;
      job = rest;
      log = mergeEvents([], events);
      app.ok();
      if (!jobView(job, Date.now()).terminal) follow();
      render();
    })
    .catch((err: unknown) => {
      replace(
        body,
        h('div', { class: 'page-head' }, h('h1', {}, h('a', { href: '#/jobs', class: 'muted' }, 'Jobs'), ' / ', id)),
        empty('This job could not be read.'),
      );
      app.fail(err);
    });

  return {
    el,
    dispose() {
      sub?.close();
    },
  };
}

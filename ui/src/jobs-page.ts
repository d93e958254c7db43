import type { App, Page } from './app.ts';
import { badge, h, replace } from './dom.ts';
import { ago, clock } from './format.ts';
import { eventFilterInput, isTerminal, jobFilterInput, listRow, mergeJob, replaceList } from './jobs-model.ts';
import { JOB_EVENTS, JOBS } from './queries.ts';
import type { JobsFilter, Route } from './router.ts';
import { JOB_KINDS, JOB_STATES, type JobEventData, type JobRow, type JobsPage } from './types.ts';
import { empty, progressBar, since } from './views.ts';

/*
 * The jobs list (#/jobs?state=&kind=&host=&ticket=): newest first, under its filters, kept
 * current by jobEvents: a job appears when it is queued and its row follows it to the end.
 * The list is read at once, and again each time the stream (re)opens, so no job falls between
 * the read and the stream; the newer answer wins (a read racing an ended job's event: mergeJob).
 */

const PAGE_SIZE = 50;

export function jobsPage(app: App, initial: Extract<Route, { page: 'jobs' }>): Page {
  let filter: JobsFilter = initial.filter;
  let jobs: JobRow[] = [];
  let more: string | null = null;
  let since_: string | null = null;
  let loaded = false;

  const state = h('select', { id: 'filter-state', 'aria-label': 'State' });
  const kind = h('select', { id: 'filter-kind', 'aria-label': 'Kind' });
  const host = h('select', { id: 'filter-host', 'aria-label': 'Host' });
  const ticket = h('input', { id: 'filter-ticket', type: 'search', placeholder: 'ticket', 'aria-label': 'Ticket' });
  const clear = h('button', { type: 'button', class: 'ghost' }, 'Clear');
  const count = h('span', { class: 'muted', 'data-testid': 'jobs-count' });
  const body = h('div', { 'data-testid': 'jobs-list' }, empty('Loading…'));
  const moreButton = h('button', { type: 'button', class: 'ghost', hidden: true }, 'Older jobs…');

  const el = h(
    'div',
    { class: 'page jobs' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), count),
    h(
      'form',
      { class: 'toolbar', role: 'search' },
      h('label', {}, 'State ', state),
      h('label', {}, 'Kind ', kind),
      h('label', {}, 'Host ', host),
      h('label', {}, 'Ticket ', ticket),
      clear,
    ),
    body,
    moreButton,
  );

  const fill = (select: HTMLSelectElement, all: string, values: readonly string[], current: string | null) =>
    replace(
      select,
      h('option', { value: '' }, all),
      values.map((v) => h('option', { value: v, selected: v === current }, v)),
    );
  let hostNames: string[] = [];
  const fillHosts = () =>
    fill(host, 'any', filter.host && !hostNames.includes(filter.host) ? [...hostNames, filter.host] : hostNames, filter.host);
  const showFilter = () => {
    fill(state, 'any', JOB_STATES, filter.state);
    fill(kind, 'any', JOB_KINDS, filter.kind);
    fillHosts();
    ticket.value = filter.ticket ?? '';
  };
  showFilter();
  // The host names come later: only the host list is filled again, so what the operator has
  // typed or chosen meanwhile stays.
  void app.hostNames().then((names) => {
    hostNames = names;
    fillHosts();
  });
  const navigate = () =>
    app.navigate({
      page: 'jobs',
      filter: {
        state: (state.value || null) as JobsFilter['state'],
        kind: (kind.value || null) as JobsFilter['kind'],
        host: host.value || null,
        ticket: ticket.value.trim() || null,
      },
    });
  for (const s of [state, kind, host]) s.addEventListener('change', navigate);
  ticket.addEventListener('change', navigate);
  el.querySelector('form')!.addEventListener('submit', (ev) => {
    ev.preventDefault();
    navigate();
  });
  clear.addEventListener('click', () => app.navigate({ page: 'jobs', filter: { state: null, kind: null, host: null, ticket: null } }));

  function render(): void {
    const now = Date.now();
    count.textContent = loaded ? `${jobs.length}${more ? '+' : ''} jobs` : '';
    moreButton.hidden = !more;
    if (!loaded) return;
    if (!jobs.length) {
      replace(body, empty('No job matches. Changes appear here as soon as they are queued.'));
      return;
    }
    replace(
      body,
      h(
        'table',
        { class: 'grid jobs-table', 'data-testid': 'jobs-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['state', 'kind', 'hosts', 'progress', 'ticket', 'requested by', 'created', 'took'].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          {},
          jobs.map((j) => {
            const r = listRow(j, now);
            const href = `#/jobs/${encodeURIComponent(r.id)}`;
            return h(
              'tr',
              { 'data-job-id': r.id, 'data-state': r.state, class: `row s-${r.state.toLowerCase()}` },
              h('td', {}, badge(r.state)),
              h('td', {}, h('a', { href }, r.kind)),
              h(
                'td',
                {},
                r.hosts.map((x) => h('span', { class: `chip s-${x.state.toLowerCase()}`, title: `${x.host}: ${x.state}` }, x.host)),
              ),
              h(
                'td',
                { class: 'progress-cell' },
                progressBar(r.percent, r.state),
                h('span', { class: r.error ? 'warn small' : 'muted small' }, r.error ?? r.message),
              ),
              h('td', {}, r.ticketRef ?? h('span', { class: 'muted' }, '–')),
              h('td', {}, r.requestedBy ?? '–'),
              h('td', { title: clock(r.createdAt) }, ago(r.createdAt, now)),
              h('td', {}, isTerminal(r.state) ? r.duration : since(j.startedAt, r.duration)),
            );
          }),
        ),
      ),
    );
  }

  // Rows are links as a whole.
  body.addEventListener('click', (ev) => {
    const row = (ev.target as Element).closest('tr[data-job-id]');
    if (row && !(ev.target as Element).closest('a')) app.navigate({ page: 'job', id: row.getAttribute('data-job-id')! });
  });

  let generation = 0;
  async function load(): Promise<void> {
    const mine = ++generation;
    try {
      const data = await app.api.query<JobsPage>(JOBS, { first: PAGE_SIZE, filter: jobFilterInput(filter) });
      if (mine !== generation) return;
      jobs = replaceList(jobs, data.jobs.nodes);
      more = data.jobs.pageInfo.hasNextPage ? data.jobs.pageInfo.endCursor : null;
      loaded = true;
      app.ok();
      render();
    } catch (err) {
      app.fail(err);
    }
  }

  moreButton.addEventListener('click', async () => {
    if (!more) return;
    try {
      const data = await app.api.query<JobsPage>(JOBS, { first: PAGE_SIZE, after: more, filter: jobFilterInput(filter) });
      const known = new Set(jobs.map((j) => j.id));
      jobs = [...jobs, ...data.jobs.nodes.filter((j) => !known.has(j.id))];
      more = data.jobs.pageInfo.hasNextPage ? data.jobs.pageInfo.endCursor : null;
      render();
    } catch (err) {
      app.fail(err);
    }
  });

  // Read now, and again whenever the stream (re)opens: what happened before it was open is then in the list too.
  void load();
  let sub = follow();
  function follow() {
    return app.subscribe<{ jobEvents: JobEventData<JobRow> }>({
      document: JOB_EVENTS,
      variables: () => ({ filter: eventFilterInput(filter), ...(since_ ? { since: since_ } : {}) }),
      onOpen: () => void load(),
      onNext: ({ jobEvents: e }) => {
        if (e.sequence) since_ = e.sequence;
        if (!e.job) return;
        jobs = mergeJob(jobs, e.job, filter, Math.max(PAGE_SIZE, jobs.length));
        render();
      },
    });
  }

  return {
    el,
    update(route) {
      if (route.page !== 'jobs') return false;
      filter = route.filter;
      showFilter();
      jobs = [];
      loaded = false;
      since_ = null;
      render();
      replace(body, empty('Loading…'));
      sub.close();
      void load();
      sub = follow();
      return true;
    },
    dispose() {
      sub.close();
    },
  };
}

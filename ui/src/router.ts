import { JOB_KINDS, JOB_STATES, type JobKind, type JobState } from './types.ts';

/*
 * Hash routes, so one page serves every view and a reload or a shared link opens the same one:
 * #/topology[?vlan=1001&host=hv1], #/vlans, #/vlans/1001, #/jobs[?state=…&kind=…&host=…&ticket=…],
 * #/jobs/<id>.
 */

export interface JobsFilter {
  state: JobState | null;
  kind: JobKind | null;
  host: string | null;
  ticket: string | null;
}

export type Route =
  | { page: 'topology'; vlan: number | null; host: string | null }
  | { page: 'vlans' }
  | { page: 'vlan'; tag: number }
  | { page: 'jobs'; filter: JobsFilter }
  | { page: 'job'; id: string }
  | { page: 'not-found'; hash: string };

export const EMPTY_JOBS_FILTER: JobsFilter = { state: null, kind: null, host: null, ticket: null };

const isTag = (n: number) => Number.isInteger(n) && n >= 1 && n <= 4094;

function tagOf(text: string | null): number | null {
  if (text === null || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return isTag(n) ? n : null;
}

const nonEmpty = (v: string | null) => (v?.trim() ? v.trim() : null);

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const q = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, ...rest] = parts;
  if (rest.length) return { page: 'not-found', hash };
  if (!first || first === 'topology') {
    if (second) return { page: 'not-found', hash };
    return { page: 'topology', vlan: tagOf(q.get('vlan')), host: nonEmpty(q.get('host')) };
  }
  if (first === 'vlans') {
    if (!second) return { page: 'vlans' };
    const tag = tagOf(second);
    return tag === null ? { page: 'not-found', hash } : { page: 'vlan', tag };
  }
  if (first === 'jobs') {
    if (second) return { page: 'job', id: second };
    const state = q.get('state');
    const kind = q.get('kind');
    return {
      page: 'jobs',
      filter: {
        state: JOB_STATES.includes(state as JobState) ? (state as JobState) : null,
        kind: JOB_KINDS.includes(kind as JobKind) ? (kind as JobKind) : null,
        host: nonEmpty(q.get('host')),
        ticket: nonEmpty(q.get('ticket')),
      },
    };
  }
  return { page: 'not-found', hash };
}

function withQuery(path: string, params: Record<string, string | number | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function formatRoute(route: Route): string {
  switch (route.page) {
    case 'topology':
      return withQuery('#/topology', { vlan: route.vlan, host: route.host });
    case 'vlans':
      return '#/vlans';
    case 'vlan':
      return `#/vlans/${route.tag}`;
    case 'jobs':
      return withQuery('#/jobs', {
        state: route.filter.state,
        kind: route.filter.kind,
        host: route.filter.host,
        ticket: route.filter.ticket,
      });
    case 'job':
      return `#/jobs/${encodeURIComponent(route.id)}`;
    case 'not-found':
      return route.hash;
  }
}

/** The navigation entry a route belongs to. */
export function section(route: Route): 'topology' | 'vlans' | 'jobs' | null {
  if (route.page === 'topology') return 'topology';
  if (route.page === 'vlans' || route.page === 'vlan') return 'vlans';
  if (route.page === 'jobs' || route.page === 'job') return 'jobs';
  return null;
}

import { ApiError, createApi } from './api.ts';
import type { App, Page } from './app.ts';
import { h, replace } from './dom.ts';
import { duration } from './format.ts';
import { jobPage } from './job-page.ts';
import { jobsPage } from './jobs-page.ts';
import { ME } from './queries.ts';
import { formatRoute, parseRoute, type Route, section } from './router.ts';
import { Session } from './session.ts';
import { signInPage } from './signin-page.ts';
import { type StreamStatus, subscribe } from './stream.ts';
import { topologyPage } from './topology-page.ts';
import type { Caller } from './types.ts';
import { vlanDetailPage, vlansPage } from './vlan-page.ts';

/*
 * The shell: sign-in, the header (navigation, live status, who is signed in, sign out), the
 * banner for failures, and the hash router mounting one page at a time. A 401 from any call
 * signs out and asks for a token again, saying why; a 403 is a banner (the token works but
 * may not do that).
 */

const session = new Session(sessionStorage);
const api = createApi(() => session.token);
const root = document.getElementById('app')!;

let page: Page | null = null;
let caller: Caller | null = null;
let names: Promise<string[]> | null = null;
const streams = new Map<number, StreamStatus>();
let streamIds = 0;

const nav = h('nav', { class: 'nav' });
const liveDot = h('span', { class: 'live', 'data-testid': 'live-status', title: 'live updates' }, 'offline');
const who = h('span', { class: 'who', 'data-testid': 'caller' });
const signOut = h('button', { type: 'button', class: 'ghost', 'data-testid': 'sign-out' }, 'Sign out');
const banner = h('div', { class: 'banner', role: 'alert', hidden: true, 'data-testid': 'banner' });
const main = h('main', { class: 'main' });
const header = h(
  'header',
  { class: 'top' },
  h('a', { class: 'brand', href: '#/topology' }, h('span', { class: 'logo' }), 'Trunkline'),
  nav,
  h('span', { class: 'spacer' }),
  liveDot,
  who,
  signOut,
);

function showLive(): void {
  const states = [...streams.values()];
  const s = states.includes('reconnecting')
    ? 'reconnecting'
    : states.includes('open')
      ? 'open'
      : states.includes('connecting')
        ? 'connecting'
        : 'idle';
  liveDot.className = `live live-${s}`;
  liveDot.textContent = s === 'open' ? 'live' : s === 'idle' ? 'idle' : s;
}

const app: App = {
  api,
  subscribe(opts) {
    const n = ++streamIds;
    const sub = subscribe({
      ...opts,
      token: () => session.token,
      onStatus: (status, detail) => {
        if (status === 'closed') streams.delete(n);
        else streams.set(n, status);
        if (status === 'reconnecting' && detail) liveDot.title = detail;
        showLive();
      },
      onFatal: (err) => (opts.onFatal ? opts.onFatal(err) : app.fail(err)),
    });
    return {
      close() {
        streams.delete(n);
        showLive();
        sub.close();
      },
    };
  },
  fail(err) {
    if (err instanceof ApiError && err.kind === 'unauthenticated') return signedOut(err.message);
    banner.textContent = err instanceof Error ? err.message : String(err);
    banner.className = `banner ${err instanceof ApiError ? `banner-${err.kind}` : ''}`;
    banner.hidden = false;
  },
  ok() {
    if (!banner.classList.contains('banner-forbidden')) banner.hidden = true;
  },
  navigate(route) {
    const hash = formatRoute(route);
    if (location.hash === hash) mount(route);
    else location.hash = hash;
  },
  caller: () => caller,
  hostNames() {
    names ??= api
      .query<{ hypervisors: Array<{ name: string }> }>('query HostNames { hypervisors { name } }')
      .then((d) => d.hypervisors.map((x) => x.name))
      .catch(() => []);
    return names;
  },
};

function mount(route: Route): void {
  banner.hidden = true;
  if (page?.update?.(route)) return;
  page?.dispose();
  page = null;
  const current = section(route);
  replace(
    nav,
    (
      [
        ['topology', 'Topology', '#/topology'],
        ['vlans', 'VLANs', '#/vlans'],
        ['jobs', 'Jobs', '#/jobs'],
      ] as const
    ).map(([key, text, href]) =>
      h('a', { href, class: key === current ? 'active' : '', 'aria-current': key === current ? 'page' : null }, text),
    ),
  );
  switch (route.page) {
    case 'topology':
      page = topologyPage(app, route);
      break;
    case 'vlans':
      page = vlansPage(app);
      break;
    case 'vlan':
      page = vlanDetailPage(app, route.tag);
      break;
    case 'jobs':
      page = jobsPage(app, route);
      break;
    case 'job':
      page = jobPage(app, route.id);
      break;
    case 'not-found':
      page = {
        el: h(
          'div',
          { class: 'page' },
          h('h1', {}, 'Not found'),
          h('p', {}, 'No such page: ', h('a', { href: '#/topology' }, 'go to the topology')),
        ),
        dispose() {},
      };
  }
  replace(main, page.el);
  document.title = `Trunkline · ${current ?? 'not found'}`;
}

function signedIn(me: Caller): void {
  caller = me;
  names = null;
  who.textContent = `${me.name} (${me.role.toLowerCase()}${me.hostGroups ? `: ${me.hostGroups.join(', ')}` : ''})`;
  who.title = me.tokenId ?? '';
  replace(root, header, banner, main);
  showLive();
  mount(parseRoute(location.hash));
}

function signedOut(message: string | null): void {
  page?.dispose();
  page = null;
  caller = null;
  session.signOut();
  streams.clear();
  showLive();
  document.title = 'Trunkline · sign in';
  replace(
    root,
    signInPage(api, message, (token, me) => {
      session.signIn(token);
      signedIn(me);
    }),
  );
}

signOut.addEventListener('click', () => signedOut('Signed out.'));
window.addEventListener('hashchange', () => {
  if (caller) mount(parseRoute(location.hash));
});

// Durations of what still runs, every second (views.ts `since`).
setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll<HTMLElement>('.elapsed[data-since]')) {
    const start = el.dataset.since;
    if (start) el.textContent = duration(now - Date.parse(start));
  }
}, 1000);

/** With a token from earlier in this tab: who it is, or why not (a 401 asks for another token; anything else offers a retry). */
function start(): void {
  if (!session.token) {
    signedOut(null);
    return;
  }
  api
    .query<{ me: Caller }>(ME)
    .then((d) => signedIn(d.me))
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.kind === 'unauthenticated') return signedOut(err.message);
      const retry = h('button', { type: 'button', class: 'primary' }, 'Retry');
      retry.addEventListener('click', start);
      replace(
        root,
        h(
          'div',
          { class: 'signin-wrap' },
          h('div', { class: 'signin' }, h('h1', {}, 'Trunkline'), h('p', { class: 'alert', role: 'alert' }, (err as Error).message), retry),
        ),
      );
    });
}

start();

import { badge, type Child, h } from './dom.ts';
import type { Excerpt } from './format.ts';
import type { VerificationGrid } from './vlan-model.ts';

/* Widgets several pages use. */

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

export function table(headers: readonly string[], rows: readonly Child[][], attrs: Record<string, string> = {}): HTMLElement {
  return h(
    'table',
    { class: 'grid', ...attrs },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c) => h('td', {}, c)),
        ),
      ),
    ),
  );
}

export function empty(text: string): HTMLElement {
  return h('p', { class: 'empty' }, text);
}

export function progressBar(percent: number, state: string): HTMLElement {
  const bar = h('span', { class: 'bar' });
  bar.style.width = `${Math.max(0, Math.min(100, percent))}%`;
  return h(
    'span',
    { class: `progress s-${state.toLowerCase()}`, role: 'progressbar', 'aria-valuenow': percent, 'aria-valuemin': 0, 'aria-valuemax': 100 },
    bar,
  );
}

export function code(text: string): HTMLElement {
  return h('code', { class: 'cmd' }, text);
}

export function output(label: string, ex: Excerpt | null, kind: 'stdout' | 'stderr'): HTMLElement | null {
  if (!ex) return null;
  return h(
    'div',
    { class: `output ${kind}` },
    h('span', { class: 'output-label' }, label, ex.omittedLines ? ` (last lines; ${ex.omittedLines} earlier not shown)` : ''),
    h('pre', {}, ex.text),
  );
}

/** Time since an ISO instant, kept current by the shell's ticker (main.ts). */
export function since(iso: string | null, text: string): HTMLElement {
  return h('span', { class: 'elapsed', 'data-since': iso ?? '' }, text);
}

export function verificationTable(grid: VerificationGrid): HTMLElement {
  return h(
    'table',
    { class: 'matrix', 'data-testid': 'verification-grid' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'probe (host · VLAN · address)'),
        grid.columns.map((c) => h('th', {}, `→ ${c}`)),
      ),
    ),
    h(
      'tbody',
      {},
      grid.rows.map((r) =>
        h(
          'tr',
          { class: r.member ? 'member' : 'isolation' },
          h(
            'th',
            {},
            h('span', { class: 'probe-host' }, r.host),
            ` · VLAN ${r.vlan}${r.member ? '' : ' (isolation)'} · `,
            h('span', { class: 'mono' }, r.address),
          ),
          r.cells.map((c) =>
            c ? h('td', { class: `cell-${c.state}`, title: c.title, 'data-state': c.state }, c.text) : h('td', { class: 'cell-none' }, '–'),
          ),
        ),
      ),
    ),
  );
}

export function gridSummary(grid: VerificationGrid): HTMLElement {
  return h(
    'p',
    { class: 'grid-summary' },
    badge(grid.ok ? 'SUCCEEDED' : 'FAILED', grid.ok ? 'verified' : 'verification failed'),
    ` ${grid.counts.reached} reached · ${grid.counts.isolated} isolated · ${grid.counts.failed} failed`,
    grid.isolationFrom.length ? ` · isolated from VLAN ${grid.isolationFrom.join(', ')}` : '',
  );
}

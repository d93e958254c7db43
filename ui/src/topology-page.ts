import cytoscape from 'cytoscape';
import type { App, Page } from './app.ts';
import { coalesced } from './coalesce.ts';
import { h, replace, swatch } from './dom.ts';
import { clock } from './format.ts';
import { FLEET, JOB_EVENTS } from './queries.ts';
import type { Route } from './router.ts';
import { buildTopology, type TopologyFilter, type TopologyModel, uplinkText } from './topology-model.ts';
import { TOPOLOGY_STYLE } from './topology-style.ts';
import type { FleetData, JobEventData, JobRow } from './types.ts';
import { empty } from './views.ts';

/*
 * The topology page: the fleet drawn by cytoscape from buildTopology's elements (fixed
 * positions: hosts as columns, VLANs as lanes), filters by VLAN and host, and side panels
 * (VLANs, hosts, drift, the selected element) that say in text what the picture shows. Read
 * again whenever a job ends on a host (jobEvents), so changes appear as they land.
 */

const REFRESH_ON = ['HOST_FINISHED', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

export function topologyPage(app: App, initial: Extract<Route, { page: 'topology' }>): Page {
  let filter: TopologyFilter = { vlan: initial.vlan, host: initial.host };
  let fleet: FleetData | null = null;
  let model: TopologyModel | null = null;
  let refit = true;
  let lastShape = '';
  let lastSequence: string | null = null;
  let lastChange = '';

  const vlanSelect = h('select', { id: 'filter-vlan', 'aria-label': 'VLAN' });
  const hostSelect = h('select', { id: 'filter-host', 'aria-label': 'Host' });
  const fit = h('button', { type: 'button', class: 'ghost' }, 'Fit');
  const stats = h('span', { class: 'stats', 'data-testid': 'topology-stats' });
  const updated = h('span', { class: 'muted', 'data-testid': 'topology-updated' });
  const graph = h('div', { class: 'graph', 'data-testid': 'topology-graph' });
  const legend = h('div', { 'data-testid': 'topology-vlans' });
  const hosts = h('div', { 'data-testid': 'topology-hosts' });
  const drift = h('div', { 'data-testid': 'topology-drift' });
  const details = h('div', { class: 'details', 'data-testid': 'topology-details' }, empty('Click a host, VLAN, NIC or port.'));

  const el = h(
    'div',
    { class: 'page topology' },
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'VLAN ', vlanSelect),
      h('label', {}, 'Host ', hostSelect),
      fit,
      stats,
      h('span', { class: 'spacer' }),
      updated,
    ),
    h(
      'div',
      { class: 'topo-body' },
      graph,
      h(
        'aside',
        { class: 'side' },
        h('section', { class: 'panel' }, h('h2', {}, 'VLANs'), legend),
        h('section', { class: 'panel' }, h('h2', {}, 'Hosts'), hosts),
        h('section', { class: 'panel' }, h('h2', {}, 'Drift'), drift),
        h('section', { class: 'panel' }, h('h2', {}, 'Selected'), details),
      ),
    ),
  );

  const cy = cytoscape({
    container: graph,
    style: TOPOLOGY_STYLE as cytoscape.StylesheetJson,
    layout: { name: 'preset' },
    minZoom: 0.15,
    maxZoom: 2.5,
    boxSelectionEnabled: false,
    autoungrabify: false,
  });
  cy.on('tap', 'node', (ev) => showDetails(ev.target.data('details') as string[], ev.target.data('tag') as number | undefined));
  cy.on('tap', (ev) => {
    if (ev.target === cy) showDetails(null);
  });
  fit.addEventListener('click', () => cy.fit(undefined, 24));
  const navigate = () =>
    app.navigate({ page: 'topology', vlan: vlanSelect.value ? Number(vlanSelect.value) : null, host: hostSelect.value || null });
  vlanSelect.addEventListener('change', navigate);
  hostSelect.addEventListener('change', navigate);

  function showDetails(lines: string[] | null, tag?: number): void {
    if (!lines?.length) {
      replace(details, empty('Click a host, VLAN, NIC or port.'));
      return;
    }
    replace(
      details,
      h(
        'ul',
        {},
        lines.map((l) => h('li', { class: /drift|error|EVERY/.test(l) ? 'warn' : '' }, l)),
      ),
      tag ? h('a', { href: `#/vlans/${tag}` }, `VLAN ${tag} page →`) : null,
    );
  }

  function options(select: HTMLSelectElement, all: string, values: Array<[string, string]>, current: string): void {
    replace(
      select,
      h('option', { value: '' }, all),
      values.map(([v, text]) => h('option', { value: v, selected: v === current }, text)),
    );
  }

  function draw(): void {
    if (!fleet) return;
    model = buildTopology(fleet, filter);
    const vlanNames = new Map(fleet.vlans.map((v) => [v.tag, v.name]));
    options(
      vlanSelect,
      'all VLANs',
      model.tags.map((t) => [String(t), vlanNames.get(t) ? `${t} · ${vlanNames.get(t)}` : String(t)]),
      filter.vlan === null ? '' : String(filter.vlan),
    );
    options(
      hostSelect,
      'all hosts',
      model.hostNames.map((n) => [n, n]),
      filter.host ?? '',
    );
    cy.batch(() => {
      cy.elements().remove();
      cy.add(model!.elements as cytoscape.ElementDefinition[]);
    });
    // The operator's pan and zoom stay, unless the picture changed its shape (a lane or host came or went).
    const shape = `${model.lanes.map((l) => `${l.key}:${l.height}`).join(' ')} | ${model.hostNames.join(' ')}`;
    if (refit || shape !== lastShape) cy.fit(undefined, 24);
    refit = false;
    lastShape = shape;
    // What is drawn, for scripts and tests (the canvas itself cannot be read).
    graph.dataset.hosts = cy
      .nodes('.host')
      .map((n) => n.data('host') as string)
      .join(' ');
    graph.dataset.vlans = model.lanes
      .filter((l) => l.tag !== null)
      .map((l) => l.tag)
      .join(' ');
    graph.dataset.nodes = String(cy.nodes().length);
    const s = model.stats;
    stats.textContent = `${s.hosts} hosts · ${s.vlans} VLANs · ${s.vms} VMs · ${s.nics} NICs · ${s.drift} drift`;
    stats.classList.toggle('warn', s.drift > 0);
    updated.textContent = `read ${clock(new Date().toISOString())}${lastChange ? ` · ${lastChange}` : ''}`;
    sidePanels(fleet, model);
  }

  function sidePanels(f: FleetData, m: TopologyModel): void {
    const shown = new Set(m.lanes.map((l) => l.tag));
    replace(
      legend,
      f.vlans.length
        ? h(
            'ul',
            { class: 'legend' },
            f.vlans
              .filter((v) => shown.has(v.tag))
              .map((v) => {
                const carried = v.uplinks.filter((u) => u.carried).length;
                return h(
                  'li',
                  { 'data-tag': v.tag },
                  swatch(m.colors.get(v.tag)!),
                  h('a', { href: `#/vlans/${v.tag}` }, `VLAN ${v.tag}`),
                  v.name ? h('span', { class: 'muted' }, ` ${v.name}`) : null,
                  h('span', { class: `count${carried < v.uplinks.length ? ' warn' : ''}` }, `${carried}/${v.uplinks.length} hosts`),
                  v.drift.length ? h('span', { class: 'badge s-failed' }, `${v.drift.length} drift`) : null,
                );
              }),
          )
        : empty('No VLAN on any host yet.'),
    );
    replace(
      hosts,
      h(
        'ul',
        { class: 'hosts' },
        f.hypervisors
          .filter((x) => !filter.host || x.name === filter.host)
          .map((x) =>
            h(
              'li',
              { 'data-host': x.name },
              h('span', { class: `dot s-${x.status.toLowerCase()}` }),
              h('strong', {}, x.name),
              h('span', { class: 'muted' }, ` ${x.address}`),
              h(
                'div',
                { class: 'sub' },
                `${x.status.toLowerCase()}${x.stale ? ', stale' : ''} · uplink ${x.uplink?.name ?? '–'}: ${uplinkText(x.uplink)} · ${x.vms.totalCount ?? x.vms.nodes.length} VMs`,
              ),
              x.lastError ? h('div', { class: 'sub warn' }, `${x.lastError.code}: ${x.lastError.message}`) : null,
            ),
          ),
      ),
    );
    replace(
      drift,
      m.drift.length
        ? h(
            'ul',
            { class: 'drift-list' },
            m.drift.map((d) => h('li', {}, h('span', { class: 'badge s-failed' }, d.kind), ` ${d.hypervisorName}: ${d.message}`)),
          )
        : h('p', { class: 'ok-text' }, 'No drift in view.'),
    );
  }

  const reload = coalesced(async () => {
    try {
      fleet = await app.api.query<FleetData>(FLEET);
      app.ok();
      draw();
    } catch (err) {
      app.fail(err);
    }
  });

  const live = app.subscribe<{ jobEvents: JobEventData<JobRow> }>({
    document: JOB_EVENTS,
    variables: () => ({ filter: { types: REFRESH_ON }, ...(lastSequence ? { since: lastSequence } : {}) }),
    // What ended before the stream was open (or while it was down) is read now.
    onOpen: () => void reload(),
    onNext: ({ jobEvents: e }) => {
      if (e.sequence) lastSequence = e.sequence;
      lastChange = `${e.job?.kind ?? 'job'} ${e.type === 'HOST_FINISHED' ? `finished on ${e.hypervisor}` : e.state.toLowerCase()}`;
      void reload();
    },
  });

  void reload();
  // The container has its size once the page is in the document.
  requestAnimationFrame(() => {
    cy.resize();
    if (model) cy.fit(undefined, 24);
  });

  return {
    el,
    update(route) {
      if (route.page !== 'topology') return false;
      filter = { vlan: route.vlan, host: route.host };
      refit = true;
      draw();
      return true;
    },
    dispose() {
      live.close();
      cy.destroy();
    },
  };
}

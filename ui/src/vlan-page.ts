import type { App, Page } from './app.ts';
import { coalesced } from './coalesce.ts';
import { assignVlanColors } from './colors.ts';
import { badge, h, replace, swatch } from './dom.ts';
import { ago, clock, shortJobId } from './format.ts';
import { FLEET, JOB_EVENTS, VLAN_PAGE } from './queries.ts';
import type { FleetData, JobEventData, JobRow, VlanPageData } from './types.ts';
import { vlanList, vlanPage } from './vlan-model.ts';
import { empty, gridSummary, section, table, verificationTable } from './views.ts';

/*
 * The VLAN pages: every VLAN with where it is carried (#/vlans), and one VLAN (#/vlans/<tag>):
 * carriage per host, portgroups, VM NICs, drift and the last verification's matrix. Both read
 * again when a job ends, so an ensureVlan or verifyVlan shows up as it finishes.
 */

const ENDED = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** Reads `load` now and whenever a job ends (coalesced), rendering with `render`. */
function live<T>(app: App, load: () => Promise<T>, render: (data: T) => void): { close(): void } {
  let since: string | null = null;
  const reload = coalesced(async () => {
    try {
      render(await load());
      app.ok();
    } catch (err) {
      app.fail(err);
    }
  });
  const sub = app.subscribe<{ jobEvents: JobEventData<JobRow> }>({
    document: JOB_EVENTS,
    variables: () => ({ filter: { types: ENDED }, ...(since ? { since } : {}) }),
    // What ended before the stream was open (or while it was down) is read now.
    onOpen: () => void reload(),
    onNext: ({ jobEvents }) => {
      if (jobEvents.sequence) since = jobEvents.sequence;
      void reload();
    },
  });
  void reload();
  return sub;
}

export function vlansPage(app: App): Page {
  const body = h('div', { 'data-testid': 'vlan-list' }, empty('Loading…'));
  const el = h('div', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'VLANs')), body);
  const sub = live(
    app,
    () => app.api.query<FleetData>(FLEET),
    (fleet) => {
      const colors = assignVlanColors(fleet.vlans.map((v) => v.tag));
      const rows = vlanList(fleet);
      replace(
        body,
        rows.length
          ? table(
              ['VLAN', 'name', 'carried on', 'missing on', 'drift', ''],
              rows.map((r) => [
                h('a', { href: `#/vlans/${r.tag}`, class: 'tag-link' }, swatch(colors.get(r.tag)!), String(r.tag)),
                r.name ?? h('span', { class: 'muted' }, '–'),
                r.carriedOn.join(', ') || h('span', { class: 'muted' }, 'none'),
                r.missingOn.length ? h('span', { class: 'warn' }, r.missingOn.join(', ')) : h('span', { class: 'muted' }, '–'),
                r.drift ? badge('FAILED', `${r.drift} drift`) : badge('SUCCEEDED', 'none'),
                h('a', { href: `#/topology?vlan=${r.tag}` }, 'topology'),
              ]),
              { 'data-testid': 'vlan-table' },
            )
          : empty('No VLAN is configured on any host yet.'),
      );
    },
  );
  return { el, dispose: () => sub.close() };
}

export function vlanDetailPage(app: App, tag: number): Page {
  const head = h('div', { class: 'page-head' }, h('h1', {}, `VLAN ${tag}`));
  const body = h('div', { class: 'vlan-body' }, empty('Loading…'));
  const el = h('div', { class: 'page', 'data-testid': 'vlan-page' }, head, body);
  const color = swatch('#888');
  const sub = live(
    app,
    () => app.api.query<VlanPageData>(VLAN_PAGE, { tag }),
    (data) => {
      const m = vlanPage(data);
      color.style.backgroundColor = assignVlanColors([tag, ...data.allVlans.map((v) => v.tag)]).get(tag)!;
      const now = Date.now();
      replace(
        head,
        h('h1', {}, color, `VLAN ${m.tag}`, m.name ? h('span', { class: 'muted' }, ` · ${m.name}`) : null),
        h(
          'div',
          { class: 'chips' },
          badge(m.missingOn.length ? 'MISSING' : 'SUCCEEDED', `carried on ${m.carriedOn.length}/${m.carriage.length} hosts`),
          m.drift.length ? badge('FAILED', `${m.drift.length} drift`) : badge('SUCCEEDED', 'no drift'),
          m.verification
            ? badge(m.verification.grid.ok ? 'SUCCEEDED' : 'FAILED', m.verification.grid.ok ? 'verified' : 'verification failed')
            : badge('UNKNOWN', 'never verified'),
          h('a', { href: `#/topology?vlan=${m.tag}` }, 'show on topology →'),
        ),
      );
      replace(
        body,
        section(
          'Carriage',
          h('p', { class: 'help' }, 'How each host’s uplink treats the VLAN.'),
          table(
            ['host', 'bridge', 'uplink', 'carriage', 'drift'],
            m.carriage.map((c) => [
              h('strong', {}, c.host),
              c.bridge,
              c.uplink ?? h('span', { class: 'muted' }, 'none'),
              badge(c.carried ? 'SUCCEEDED' : 'MISSING', c.carriage.toLowerCase().replace('_', ' ')),
              c.drift.length
                ? h(
                    'ul',
                    { class: 'drift-list' },
                    c.drift.map((d) => h('li', {}, badge('FAILED', d.kind), ` ${d.message}`)),
                  )
                : h('span', { class: 'muted' }, '–'),
            ]),
            { 'data-testid': 'vlan-carriage' },
          ),
          m.missingOn.length ? h('p', { class: 'warn' }, `Missing on ${m.missingOn.join(', ')}.`) : null,
        ),
        section(
          'Portgroups',
          m.portgroups.length
            ? table(
                ['host', 'network', 'portgroup', 'kind'],
                m.portgroups.map((p) => [p.host, p.network, h('span', { class: 'mono' }, p.name), p.kind]),
                { 'data-testid': 'vlan-portgroups' },
              )
            : empty('No libvirt portgroup maps to this VLAN.'),
        ),
        section(
          'VM NICs',
          m.nics.length
            ? table(
                ['host', 'VM', 'state', 'MAC', 'portgroup', 'OVS port', 'VLANs'],
                m.nics.map((n) => [
                  n.host,
                  h('strong', {}, n.vm),
                  n.vmState ? badge(n.vmState === 'running' ? 'RUNNING' : 'IDLE', n.vmState) : '–',
                  h('span', { class: 'mono' }, n.mac ?? '–'),
                  n.portgroup ?? '–',
                  n.target ? h('span', { class: 'mono' }, n.target) : h('span', { class: 'muted' }, 'not plugged'),
                  h(
                    'span',
                    { class: n.drift.length ? 'warn' : '' },
                    n.vlans,
                    n.live ? '' : ' (configured)',
                    n.drift.length ? ' ⚠ drift' : '',
                  ),
                ]),
                { 'data-testid': 'vlan-nics' },
              )
            : empty('No VM NIC is on this VLAN.'),
        ),
        section(
          'Drift',
          m.drift.length
            ? h(
                'ul',
                { class: 'drift-list', 'data-testid': 'vlan-drift' },
                m.drift.map((d) =>
                  h('li', {}, badge('FAILED', d.kind), ' ', h('strong', {}, d.hypervisorName), ` ${d.subject}: ${d.message}`),
                ),
              )
            : h('p', { class: 'ok-text', 'data-testid': 'vlan-drift' }, 'None: every host taking part is as the VLAN needs.'),
          m.drift.some((d) => d.kind !== 'VM_PORT_TAG_DIFFERS')
            ? h('p', { class: 'help' }, 'ensureVlan repairs uplink and portgroup drift.')
            : null,
        ),
        section(
          'Last verification',
          m.verification
            ? h(
                'div',
                {},
                h(
                  'p',
                  { class: 'help' },
                  'Job ',
                  h('a', { href: `#/jobs/${encodeURIComponent(m.verification.job.id)}` }, shortJobId(m.verification.job.id)),
                  ` · ${clock(m.verification.job.finishedAt ?? m.verification.job.createdAt)} (${ago(m.verification.job.finishedAt ?? m.verification.job.createdAt, now)}) on ${m.verification.job.hypervisors.join(', ')}`,
                  m.verification.job.ticketRef ? ` · ticket ${m.verification.job.ticketRef}` : '',
                ),
                gridSummary(m.verification.grid),
                verificationTable(m.verification.grid),
                h(
                  'p',
                  { class: 'legend-line' },
                  h('span', { class: 'cell-reached key' }, 'reached'),
                  ' must reach and did · ',
                  h('span', { class: 'cell-isolated key' }, 'isolated'),
                  ' must not reach and did not · ',
                  h('span', { class: 'cell-failed key' }, 'failed'),
                  ' did not do what it must',
                ),
              )
            : empty(
                `No verification of VLAN ${m.tag} is on record (jobs are kept for a while; one that touches a host outside your host groups is not shown). Run one: POST /api/v1/vlans/${m.tag}/verify or the verifyVlan mutation.`,
              ),
        ),
      );
    },
  );
  return { el, dispose: () => sub.close() };
}

import { tagList } from './format.ts';
import type { FleetData, UplinkCarriage, VerifyJob, VlanDrift, VlanPageData, VlanVerification } from './types.ts';

/*
 * The VLAN pages' view models: the list of VLANs, one VLAN (carriage per host, portgroups,
 * NICs, drift) and its last verification (Vlan.lastVerification) as a grid: one row per probe
 * (host and VLAN it sat on), one column per member probe's host; each cell says whether the
 * ping did what it had to (reached / isolated) or not (failed).
 */

export interface VlanListRow {
  tag: number;
  name: string | null;
  carriedOn: string[];
  missingOn: string[];
  drift: number;
}

export function vlanList(fleet: FleetData): VlanListRow[] {
  return fleet.vlans.map((v) => ({
    tag: v.tag,
    name: v.name,
    carriedOn: v.uplinks.filter((u) => u.carried).map((u) => u.hypervisorName),
    missingOn: v.uplinks.filter((u) => !u.carried).map((u) => u.hypervisorName),
    drift: v.drift.length,
  }));
}

export type CellState = 'reached' | 'isolated' | 'failed';

export interface GridCell {
  state: CellState;
  text: string;
  /** from → to addresses, loss, round trip. */
  title: string;
}

export interface GridRow {
  host: string;
  vlan: number;
  /** A probe on the verified VLAN (else on an isolationFrom VLAN). */
  member: boolean;
  address: string;
  /** In `columns` order; null where no ping was made (a probe and itself). */
  cells: Array<GridCell | null>;
}

export interface VerificationGrid {
  tag: number;
  ok: boolean;
  isolationFrom: number[];
  columns: string[];
  rows: GridRow[];
  counts: Record<CellState, number>;
}

export function cellOf(r: VlanVerification['results'][number]): GridCell {
  const reach = r.expect === 'REACH';
  const state: CellState = !r.ok ? 'failed' : reach ? 'reached' : 'isolated';
  const replies = `${r.received}/${r.sent}`;
  const rtt = r.rttAvgMs !== null ? ` · ${r.rttAvgMs.toFixed(2)} ms` : '';
  const text =
    state === 'reached'
      ? `reached ${replies}${rtt}`
      : state === 'isolated'
        ? `isolated ${replies}`
        : reach
          ? `failed: no reply ${replies}`
          : `failed: reached ${replies}`;
  return {
    state,
    text,
    title: `${r.fromHost} ${r.fromAddress} (VLAN ${r.fromVlan}) → ${r.toHost} ${r.toAddress}: must ${reach ? 'reach' : 'stay isolated'}; ${r.received} of ${r.sent} replies, ${r.lossPercent}% loss${rtt}`,
  };
}

export function verificationGrid(v: VlanVerification): VerificationGrid {
  const columns = [...new Set(v.results.map((r) => r.toHost))].sort();
  const rowKey = (host: string, vlan: number) => `${host}\u0000${vlan}`;
  const rows = new Map<string, GridRow>();
  for (const r of v.results) {
    const key = rowKey(r.fromHost, r.fromVlan);
    let row = rows.get(key);
    if (!row) {
      row = { host: r.fromHost, vlan: r.fromVlan, member: r.fromVlan === v.tag, address: r.fromAddress, cells: columns.map(() => null) };
      rows.set(key, row);
    }
    row.cells[columns.indexOf(r.toHost)] = cellOf(r);
  }
  const sorted = [...rows.values()].sort((a, b) => Number(b.member) - Number(a.member) || a.vlan - b.vlan || a.host.localeCompare(b.host));
  const counts: Record<CellState, number> = { reached: 0, isolated: 0, failed: 0 };
  for (const row of sorted) for (const c of row.cells) if (c) counts[c.state]++;
  return { tag: v.tag, ok: v.ok, isolationFrom: v.isolationFrom, columns, rows: sorted, counts };
}

export interface CarriageRow {
  host: string;
  bridge: string;
  uplink: string | null;
  carriage: UplinkCarriage;
  carried: boolean;
  drift: VlanDrift[];
}

export interface NicRow {
  host: string;
  vm: string;
  vmState: string | null;
  mac: string | null;
  portgroup: string | null;
  target: string | null;
  /** "1001" or "1001,1002 (trunk)", live when plugged, else configured. */
  vlans: string;
  live: boolean;
  drift: VlanDrift[];
}

export interface VlanPageModel {
  tag: number;
  name: string | null;
  carriage: CarriageRow[];
  carriedOn: string[];
  missingOn: string[];
  portgroups: Array<{ host: string; network: string; name: string; kind: string }>;
  nics: NicRow[];
  drift: VlanDrift[];
  verification: { job: VerifyJob; grid: VerificationGrid } | null;
}

export function vlanPage(data: VlanPageData): VlanPageModel {
  const v = data.vlan;
  // The gateway keeps it per VLAN: no need to look for it among the jobs.
  const job = v.lastVerification;
  return {
    tag: v.tag,
    name: v.name,
    carriage: v.uplinks.map((u) => ({
      host: u.hypervisorName,
      bridge: u.bridge,
      uplink: u.uplink,
      carriage: u.carriage,
      carried: u.carried,
      drift: v.drift.filter((d) => d.hypervisorName === u.hypervisorName),
    })),
    carriedOn: v.uplinks.filter((u) => u.carried).map((u) => u.hypervisorName),
    missingOn: v.missingOn.map((h) => h.name),
    portgroups: v.portgroups.map((p) => ({
      host: p.hypervisorName,
      network: p.network,
      name: p.name,
      kind: `${p.trunk ? 'trunk' : 'access'}${p.isDefault ? ', default' : ''}`,
    })),
    nics: v.interfaces
      .map((i) => {
        const live = i.vlanTags !== null;
        const tags = i.vlanTags ?? i.configuredVlanTags;
        return {
          host: i.hypervisor,
          vm: i.vmName,
          vmState: i.vm?.state ?? null,
          mac: i.mac,
          portgroup: i.portgroup,
          target: i.target,
          vlans: tags.length ? `${tagList(tags)}${tags.length > 1 ? ' (trunk)' : ''}` : 'untagged',
          live,
          drift: v.drift.filter(
            (d) => d.hypervisorName === i.hypervisor && d.kind === 'VM_PORT_TAG_DIFFERS' && d.subject === `${i.vmName}/${i.mac}`,
          ),
        };
      })
      .sort((a, b) => a.host.localeCompare(b.host) || a.vm.localeCompare(b.vm)),
    drift: v.drift,
    verification: job?.verification ? { job, grid: verificationGrid(job.verification) } : null,
  };
}

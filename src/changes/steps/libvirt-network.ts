import { ErrorCode, TrunklineError } from '../../errors/codes.ts';
import { ovsNetworkXml, portgroupValue, portgroupXml, type OvsNetworkSpec } from '../../libvirt/network-build.ts';
import { parseNetInfo, parseNetworkXml } from '../../libvirt/network-xml.ts';
import type { LibvirtNetwork, Portgroup } from '../../libvirt/types.ts';
import { VIRSH } from '../../libvirt/virsh-batch.ts';
import type { ExecResult } from '../../ssh/ssh-pool.ts';
import { judged, type PlanStep, type StepAction } from '../plan.ts';
import { ABSENT } from './ovs-bridge.ts';

const NOT_FOUND = /Network not found|no network with matching name/;

function virshOutput(r: ExecResult): string | null {
  if (r.exitCode === 0) return r.stdout;
  if (NOT_FOUND.test(r.stderr)) return null;
  throw new TrunklineError(ErrorCode.COMMAND_FAILED, `virsh exited ${r.exitCode}: ${r.stderr.trim().slice(0, 500)}`);
}

/* ---- the persistent definition ---- */

export type NetworkDefState = { xml: string; net: Omit<LibvirtNetwork, 'active' | 'persistent' | 'autostart'> } | null;

/** What matters of an OVS network definition, in one comparable line. */
export function networkDefValue(net: { forwardMode: string | null; bridge: string | null; virtualportType: string | null; portgroups: Portgroup[] } | null): string {
  if (!net) return ABSENT;
  return `forward=${net.forwardMode ?? 'none'} bridge=${net.bridge ?? 'none'} virtualport=${net.virtualportType ?? 'none'} portgroups=[${net.portgroups.map(portgroupValue).join('; ')}]`;
}

export function readNetworkDef(r: ExecResult): { value: string; state: NetworkDefState } {
  const xml = virshOutput(r);
  if (xml === null) return { value: ABSENT, state: null };
  const net = parseNetworkXml(xml);
  return { value: networkDefValue(net), state: { xml, net } };
}

export function networkDefinedStep(host: string, spec: OvsNetworkSpec, cached: LibvirtNetwork | null | undefined): PlanStep {
  return judged(
    {
      host,
      subject: spec.name,
      description: `ensure libvirt network ${spec.name} is defined on bridge ${spec.bridge} (openvswitch, ${spec.portgroups.length} portgroups)`,
      probe: { kind: 'libvirt-network-def', argv: [...VIRSH, 'net-dumpxml', '--inactive', spec.name] },
      wanted: networkDefValue({ forwardMode: 'bridge', bridge: spec.bridge, virtualportType: 'openvswitch', portgroups: spec.portgroups }),
      apply: { argv: [...VIRSH, 'net-define', '/dev/stdin'], stdin: ovsNetworkXml(spec) },
    },
    cached === undefined ? null : networkDefValue(cached),
  );
}

export function undoNetworkDef(before: NetworkDefState, step: PlanStep): StepAction | null {
  if (before === null) return { argv: [...VIRSH, 'net-undefine', step.subject] };
  return { argv: [...VIRSH, 'net-define', '/dev/stdin'], stdin: before.xml };
}

/* ---- running and autostart ---- */

export type NetworkRunState = { active: boolean; autostart: boolean } | null;

export function readNetworkRun(r: ExecResult): { value: string; state: NetworkRunState } {
  const text = virshOutput(r);
  if (text === null) return { value: ABSENT, state: null };
  const info = parseNetInfo(text);
  return { value: `active=${info.active ? 'yes' : 'no'} autostart=${info.autostart ? 'yes' : 'no'}`, state: info };
}

const runValue = (s: NetworkRunState) => (s ? `active=${s.active ? 'yes' : 'no'} autostart=${s.autostart ? 'yes' : 'no'}` : ABSENT);

/** Starts the network and marks it autostart, in one virsh process (what is already so is skipped). */
export function networkRunningStep(host: string, name: string, cached: LibvirtNetwork | null | undefined): PlanStep {
  return judged(
    {
      host,
      subject: name,
      description: `ensure libvirt network ${name} is active and autostarted`,
      probe: { kind: 'libvirt-network-run', argv: [...VIRSH, 'net-info', name] },
      wanted: runValue({ active: true, autostart: true }),
      apply: startAndAutostart(name, cached ?? null),
    },
    cached === undefined ? null : runValue(cached ? { active: cached.active, autostart: cached.autostart } : null),
  );
}

function startAndAutostart(name: string, s: NetworkRunState): StepAction {
  const cmds = [...(s?.active ? [] : [`net-start ${name}`]), ...(s?.autostart ? [] : [`net-autostart ${name}`])];
  return { argv: [...VIRSH, cmds.join('; ') || `net-autostart ${name}`] };
}

/** The command is chosen from what the worker sees, not from the (maybe old) cache. */
export function applyNetworkRun(before: NetworkRunState, step: PlanStep): StepAction {
  return startAndAutostart(step.subject, before);
}

export function undoNetworkRun(before: NetworkRunState, step: PlanStep): StepAction | null {
  const cmds = [...(before?.active ? [] : [`net-destroy ${step.subject}`]), ...(before?.autostart ? [] : [`net-autostart --disable ${step.subject}`])];
  return cmds.length ? { argv: [...VIRSH, cmds.join('; ')] } : null;
}

/* ---- gone ---- */

export function networkAbsentStep(host: string, name: string, cached: LibvirtNetwork | null | undefined): PlanStep {
  return judged(
    {
      host,
      subject: name,
      description: `ensure libvirt network ${name} is stopped and undefined`,
      probe: { kind: 'libvirt-network-def', argv: [...VIRSH, 'net-dumpxml', '--inactive', name] },
      wanted: ABSENT,
      // net-destroy fails harmlessly when it is not running; the batch goes on to undefine.
      apply: { argv: [...VIRSH, `net-destroy ${name}; net-undefine ${name}`] },
    },
    cached === undefined ? null : networkDefValue(cached),
  );
}

/* ---- one portgroup, live and persistent ---- */

export type PortgroupState = { config: Portgroup | null; live: Portgroup | null; active: boolean } | null;

export function portgroupProbeArgv(network: string, marker: string): string[] {
  return [...VIRSH, `net-info ${network}; echo ${marker}; net-dumpxml --inactive ${network}; echo ${marker}; net-dumpxml ${network}`];
}

export function readPortgroup(r: ExecResult, step: PlanStep): { value: string; state: PortgroupState } {
  const marker = step.probe.marker ?? '';
  const sections = r.stdout.split(`${marker}\n`);
  if (r.exitCode !== 0 && NOT_FOUND.test(r.stderr) && (sections[0] ?? '').trim() === '') return { value: 'network absent', state: null };
  if (sections.length !== 3) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `portgroup probe: expected 3 sections, got ${sections.length}: ${r.stderr.trim()}`);
  const info = parseNetInfo(sections[0]!);
  const { portgroup } = splitPortgroupSubject(step.subject);
  const find = (xml: string) => parseNetworkXml(xml).portgroups.find((p) => p.name === portgroup) ?? null;
  const config = find(sections[1]!);
  const live = info.active ? find(sections[2]!) : null;
  const state = { config, live, active: info.active };
  return { value: portgroupStateValue(state), state };
}

export function portgroupStateValue(s: PortgroupState): string {
  if (!s) return 'network absent';
  return s.active ? `config=${portgroupValue(s.config)} live=${portgroupValue(s.live)}` : `config=${portgroupValue(s.config)} (network inactive)`;
}

/**
 * `net-update` changes the running network and its definition at once (--live --config);
 * without both flags only one of them changes (LAB-NOTES). add or modify is chosen from what
 * is there; an inactive network only gets --config.
 */
export function portgroupUpdate(network: string, pg: Portgroup, before: PortgroupState, remove = false): StepAction {
  const present = Boolean(before?.config || before?.live);
  const verb = remove ? 'delete' : present ? 'modify' : 'add';
  const flags = before?.active === false ? ['--config'] : ['--live', '--config'];
  const xml = remove ? `<portgroup name='${pg.name}'/>` : portgroupXml(pg).replace(/\n\s*/g, '');
  return { argv: [...VIRSH, 'net-update', network, verb, 'portgroup', xml, ...flags] };
}

/** Portgroup steps are about "network/portgroup". */
export function splitPortgroupSubject(subject: string): { network: string; portgroup: string } {
  const i = subject.indexOf('/');
  return { network: subject.slice(0, i), portgroup: subject.slice(i + 1) };
}

/** The portgroup is as wanted in the definition and, if the network runs, live too. */
export function portgroupMatches(state: PortgroupState, wanted: string): boolean {
  if (!state) return wanted === 'absent';
  return portgroupValue(state.config) === wanted && (!state.active || portgroupValue(state.live) === wanted);
}

export function portgroupStep(
  host: string,
  network: string,
  pg: Portgroup,
  cachedNetwork: LibvirtNetwork | null | undefined,
  marker: string,
  remove = false,
): PlanStep {
  const cachedPg = cachedNetwork?.portgroups.find((p) => p.name === pg.name) ?? null;
  // The cache holds the live definition for active networks, the persistent one otherwise.
  const cachedState: PortgroupState | undefined =
    cachedNetwork === undefined ? undefined : cachedNetwork === null ? null : { config: cachedPg, live: cachedNetwork.active ? cachedPg : null, active: cachedNetwork.active };
  const wanted = remove ? 'absent' : portgroupValue(pg);
  const step: PlanStep = {
    host,
    subject: `${network}/${pg.name}`,
    description: remove
      ? `ensure portgroup ${pg.name} is removed from network ${network} (live and persistent)`
      : `ensure portgroup ${portgroupValue(pg)} in network ${network} (live and persistent)`,
    probe: { kind: 'libvirt-portgroup', argv: portgroupProbeArgv(network, marker), marker },
    wanted,
    apply: portgroupUpdate(network, pg, cachedState ?? null, remove),
    observed: cachedState === undefined ? null : portgroupStateValue(cachedState),
    changes: cachedState === undefined ? null : !portgroupMatches(cachedState, wanted),
  };
  return step;
}

/**
 * The planned net-update, with verb and flags chosen from what the worker sees: add or
 * modify (the cache may be old), --live only if the network runs.
 */
export function applyPortgroup(before: PortgroupState, step: PlanStep): StepAction {
  const argv = step.apply!.argv;
  const i = argv.indexOf('net-update');
  const remove = argv[i + 2] === 'delete';
  const present = Boolean(before?.config || before?.live);
  const verb = remove ? 'delete' : present ? 'modify' : 'add';
  const flags = before?.active === false ? ['--config'] : ['--live', '--config'];
  return { argv: [...argv.slice(0, i + 2), verb, 'portgroup', argv[i + 4]!, ...flags] };
}

export function undoPortgroup(before: PortgroupState, step: PlanStep): StepAction | null {
  if (!before) return null;
  const { network, portgroup } = splitPortgroupSubject(step.subject);
  if (!before.config) return portgroupUpdate(network, { name: portgroup, isDefault: false, vlan: null }, before, true);
  return portgroupUpdate(network, before.config, before);
}

import { ErrorCode, TrunklineError } from '../../errors/codes.ts';
import {
  ovsNetworkXml,
  portgroupsValue,
  portgroupValue,
  portgroupXml,
  withUuid,
  xmlEscape,
  type OvsNetworkSpec,
} from '../../libvirt/network-build.ts';
import { parseNetInfo, parseNetworkXml, type NetInfo } from '../../libvirt/network-xml.ts';
import type { LibvirtNetwork, Portgroup } from '../../libvirt/types.ts';
import { newMarker, VIRSH } from '../../libvirt/virsh-batch.ts';
import { stderrExcerpt } from '../../ssh/command-output.ts';
import type { ExecResult } from '../../ssh/runner.ts';
import { ABSENT, judged, type PlanStep, type StepAction } from '../plan.ts';

const NOT_FOUND = /Network not found|no network with matching name/;

function virshOutput(r: ExecResult): string | null {
  if (r.exitCode === 0) return r.stdout;
  if (NOT_FOUND.test(r.stderr)) return null;
  throw new TrunklineError(ErrorCode.COMMAND_FAILED, `virsh exited ${r.exitCode}: ${stderrExcerpt(r.stderr)}`);
}

/* ---- the definition, persistent and live ---- */

type NetworkDef = Omit<LibvirtNetwork, 'active' | 'persistent' | 'autostart'>;

/**
 * A network as the definition step sees it: the persistent definition (`net-dumpxml --inactive`,
 * kept as XML for undo) and, while the network runs, the live one; null when there is none.
 */
export type NetworkDefState = { xml: string; net: NetworkDef; active: boolean; live: NetworkDef | null } | null;

/** `wanted` of a step that only needs the network to exist (whatever its definition). */
export const DEFINED = 'defined';

/**
 * What matters of an OVS network definition, in one comparable line. Portgroups (and the VLAN
 * tags in each) are a set: libvirt keeps portgroups in the order they were added, which means
 * nothing, so the same portgroups in another order are no difference.
 */
export function networkDefValue(
  net: { forwardMode: string | null; bridge: string | null; virtualportType: string | null; portgroups: Portgroup[] } | null,
): string {
  if (!net) return ABSENT;
  return `forward=${net.forwardMode ?? 'none'} bridge=${net.bridge ?? 'none'} virtualport=${net.virtualportType ?? 'none'} portgroups=${portgroupsValue(net.portgroups)}`;
}

/** The definition; both definitions when the running network differs from the persistent one. */
export function networkDefStateValue(s: NetworkDefState): string {
  if (!s) return ABSENT;
  const persistent = networkDefValue(s.net);
  const live = s.live ? networkDefValue(s.live) : persistent;
  return live === persistent ? persistent : `persistent: ${persistent}; live: ${live}`;
}

/**
 * net-info, the persistent and the live definition of a network in one virsh process. The
 * definition step and the network's portgroup steps share it (same marker: one probe per round).
 *
 * Every virsh command here and below ends its options with `--` before the network's name, so
 * that no name can be read as an option (names are validated too: src/validation/names.ts).
 * Options go in front of `--`: virsh reads whatever follows it as positionals (docs/lab.md).
 */
export function networkProbeArgv(network: string, marker: string): string[] {
  return [
    ...VIRSH,
    `net-info -- ${network}; echo ${marker}; net-dumpxml --inactive -- ${network}; echo ${marker}; net-dumpxml -- ${network}`,
  ];
}

/** The three sections of networkProbeArgv's output; null when the network does not exist. */
function networkProbe(r: ExecResult, step: PlanStep, what: string): { info: NetInfo; inactive: string; live: string } | null {
  const sections = r.stdout.split(`${step.probe.marker ?? ''}\n`);
  if (r.exitCode !== 0 && NOT_FOUND.test(r.stderr) && (sections[0] ?? '').trim() === '') return null;
  if (sections.length !== 3)
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `${what} probe: expected 3 sections, got ${sections.length}: ${r.stderr.trim()}`);
  return { info: parseNetInfo(sections[0]!), inactive: sections[1]!, live: sections[2]! };
}

export function readNetworkDef(r: ExecResult, step: PlanStep): { value: string; state: NetworkDefState } {
  const p = networkProbe(r, step, 'network');
  if (!p) return { value: ABSENT, state: null };
  const state = {
    xml: p.inactive,
    net: parseNetworkXml(p.inactive),
    active: p.info.active,
    live: p.info.active ? parseNetworkXml(p.live) : null,
  };
  return { value: networkDefStateValue(state), state };
}

/** As wanted: the persistent definition and, while the network runs, the live one too. */
export function networkDefMatches(state: NetworkDefState, wanted: string): boolean {
  if (wanted === ABSENT) return state === null;
  if (!state) return false;
  if (wanted === DEFINED) return true;
  return networkDefValue(state.net) === wanted && (!state.live || networkDefValue(state.live) === wanted);
}

/**
 * "Ensure the network looks like this": a new network is defined; an existing one converges,
 * keeping its UUID. Portgroups of a running network change live (net-update --live), the
 * persistent definition is redefined (net-define with the existing <uuid>). What a running
 * network cannot change live (forward mode, bridge, virtualport) is refused, see restartNeeded.
 */
export function networkDefinedStep(
  host: string,
  spec: OvsNetworkSpec,
  cached: LibvirtNetwork | null | undefined,
  marker = newMarker(),
): PlanStep {
  return judged(
    {
      host,
      subject: spec.name,
      description: `ensure libvirt network ${spec.name} is defined on bridge ${spec.bridge} (openvswitch, ${spec.portgroups.length} portgroups), persistent and live`,
      probe: { kind: 'libvirt-network-def', argv: networkProbeArgv(spec.name, marker), marker },
      wanted: networkDefValue({ forwardMode: 'bridge', bridge: spec.bridge, virtualportType: 'openvswitch', portgroups: spec.portgroups }),
      // For a network that exists the worker adds its UUID (and live updates): applyNetworkDef.
      apply: { argv: [...VIRSH, 'net-define', '/dev/stdin'], stdin: ovsNetworkXml(spec) },
    },
    cached === undefined ? null : networkDefValue(cached),
  );
}

/** The network exists, as it is; defined from `spec` only if absent (a host never read). */
export function networkPresentStep(
  host: string,
  spec: OvsNetworkSpec,
  cached: LibvirtNetwork | null | undefined,
  marker = newMarker(),
): PlanStep {
  return {
    ...networkDefinedStep(host, spec, cached, marker),
    description: `ensure libvirt network ${spec.name} exists (if absent: defined on bridge ${spec.bridge} with portgroups ${spec.portgroups.map((p) => p.name).join(', ')})`,
    wanted: DEFINED,
    changes: cached === undefined ? null : cached === null,
  };
}

/**
 * Why a running network cannot take this definition without a restart (null when it can).
 * libvirt applies forward mode, bridge and virtualport only at net-start, and restarting a
 * network cuts off the VMs on it, so Trunkline says so instead of doing it.
 */
export function restartNeeded(
  network: string,
  live: Omit<NetworkDef, 'name' | 'uuid' | 'portgroups'>,
  wanted: Omit<NetworkDef, 'name' | 'uuid' | 'portgroups'>,
): string | null {
  const diff = (what: string, a: string | null, b: string | null) => (a === b ? [] : [`${what} ${a ?? 'none'} (wanted ${b ?? 'none'})`]);
  const diffs = [
    ...diff('forward mode', live.forwardMode, wanted.forwardMode),
    ...diff('bridge', live.bridge, wanted.bridge),
    ...diff('virtualport', live.virtualportType, wanted.virtualportType),
  ];
  if (!diffs.length) return null;
  return (
    `network ${network} is running with ${diffs.join(', ')}: that changes only when the network is restarted (net-destroy, net-start), ` +
    `which cuts off the VMs on it, so Trunkline changed nothing; stop or move its VMs, then deleteNetwork and defineNetwork again`
  );
}

/** Words of a virsh batch command line (`virsh 'a; b'`): XML arguments go in double quotes. */
function virshWord(word: string): string {
  if (/^[A-Za-z0-9_.:/=-]+$/.test(word)) return word;
  if (/["\\\n]/.test(word)) throw new TrunklineError(ErrorCode.JOB_INVALID, `cannot pass ${JSON.stringify(word)} to a virsh batch`);
  return `"${word}"`;
}

/**
 * The `net-update ... --live` commands that turn a running network's portgroups `from` into
 * `to`: deletes first, then modifies and adds; the new default last (libvirt allows one default
 * at a time, so the old one gives it up first).
 */
export function livePortgroupUpdates(network: string, from: readonly Portgroup[], to: readonly Portgroup[]): string[][] {
  const had = new Map(from.map((p) => [p.name, p]));
  const keep = new Set(to.map((p) => p.name));
  const update = (verb: string, xml: string) => ['net-update', '--live', '--', network, verb, 'portgroup', xml];
  const deletes = from.filter((p) => !keep.has(p.name)).map((p) => update('delete', `<portgroup name='${xmlEscape(p.name)}'/>`));
  const changed = to
    .filter((p) => portgroupValue(had.get(p.name) ?? null) !== portgroupValue(p))
    .sort((a, b) => Number(a.isDefault) - Number(b.isDefault));
  return [...deletes, ...changed.map((p) => update(had.has(p.name) ? 'modify' : 'add', portgroupXml(p).replace(/\n\s*/g, '')))];
}

/** Several virsh commands as one action: one command as is, more as one virsh batch. */
function virshAction(cmds: string[][], stdin?: string): StepAction {
  const argv = cmds.length === 1 ? [...VIRSH, ...cmds[0]!] : [...VIRSH, cmds.map((c) => c.map(virshWord).join(' ')).join('; ')];
  return stdin === undefined ? { argv } : { argv, stdin };
}

/** The wanted definition, with the existing network's UUID. */
function wantedDef(step: PlanStep, uuid: string): { xml: string; net: NetworkDef } {
  const xml = withUuid(step.apply!.stdin!, uuid);
  return { xml, net: parseNetworkXml(xml) };
}

/**
 * The command for what the worker observed. A new network: the planned net-define. An existing
 * one: its live portgroups changed with net-update --live (if it runs and they differ), then its
 * persistent definition redefined with its own UUID (if that differs). net-define goes last in
 * the virsh batch, so that its failure is the exit status (a batch exits with its last command's).
 */
export function applyNetworkDef(before: NetworkDefState, step: PlanStep): StepAction {
  if (before === null || step.wanted === ABSENT || step.wanted === DEFINED) return step.apply!;
  const want = wantedDef(step, before.net.uuid);
  const cmds: string[][] = [];
  if (before.live) {
    const why = restartNeeded(step.subject, before.live, want.net);
    if (why) throw new TrunklineError(ErrorCode.NETWORK_RESTART_REQUIRED, why);
    if (networkDefValue(before.live) !== step.wanted)
      cmds.push(...livePortgroupUpdates(step.subject, before.live.portgroups, want.net.portgroups));
  }
  const redefine = networkDefValue(before.net) !== step.wanted;
  if (redefine) cmds.push(['net-define', '/dev/stdin']);
  return cmds.length ? virshAction(cmds, redefine ? want.xml : undefined) : step.apply!;
}

export function undoNetworkDef(before: NetworkDefState, step: PlanStep): StepAction | null {
  if (before === null) return step.wanted === ABSENT ? null : { argv: [...VIRSH, 'net-undefine', '--', step.subject] };
  if (step.wanted === DEFINED) return null;
  if (step.wanted === ABSENT || !before.live) return { argv: [...VIRSH, 'net-define', '/dev/stdin'], stdin: before.xml };
  // Back to the live portgroups seen before, and the persistent definition as it was.
  const live = livePortgroupUpdates(step.subject, wantedDef(step, before.net.uuid).net.portgroups, before.live.portgroups);
  return virshAction([...live, ['net-define', '/dev/stdin']], before.xml);
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
      probe: { kind: 'libvirt-network-run', argv: [...VIRSH, 'net-info', '--', name] },
      wanted: runValue({ active: true, autostart: true }),
      apply: startAndAutostart(name, cached ?? null),
    },
    cached === undefined ? null : runValue(cached ? { active: cached.active, autostart: cached.autostart } : null),
  );
}

function startAndAutostart(name: string, s: NetworkRunState): StepAction {
  const cmds = [...(s?.active ? [] : [`net-start -- ${name}`]), ...(s?.autostart ? [] : [`net-autostart -- ${name}`])];
  return { argv: [...VIRSH, cmds.join('; ') || `net-autostart -- ${name}`] };
}

/** The command is chosen from what the worker sees, not from the (maybe old) cache. */
export function applyNetworkRun(before: NetworkRunState, step: PlanStep): StepAction {
  return startAndAutostart(step.subject, before);
}

export function undoNetworkRun(before: NetworkRunState, step: PlanStep): StepAction | null {
  const cmds = [
    ...(before?.active ? [] : [`net-destroy -- ${step.subject}`]),
    ...(before?.autostart ? [] : [`net-autostart --disable -- ${step.subject}`]),
  ];
  return cmds.length ? { argv: [...VIRSH, cmds.join('; ')] } : null;
}

/* ---- gone ---- */

export function networkAbsentStep(host: string, name: string, cached: LibvirtNetwork | null | undefined, marker = newMarker()): PlanStep {
  return judged(
    {
      host,
      subject: name,
      description: `ensure libvirt network ${name} is stopped and undefined`,
      probe: { kind: 'libvirt-network-def', argv: networkProbeArgv(name, marker), marker },
      wanted: ABSENT,
      // net-destroy fails harmlessly when it is not running; the batch goes on to undefine.
      apply: { argv: [...VIRSH, `net-destroy -- ${name}; net-undefine -- ${name}`] },
    },
    cached === undefined ? null : networkDefValue(cached),
  );
}

/* ---- one portgroup, live and persistent ---- */

export type PortgroupState = { config: Portgroup | null; live: Portgroup | null; active: boolean } | null;

export function readPortgroup(r: ExecResult, step: PlanStep): { value: string; state: PortgroupState } {
  const p = networkProbe(r, step, 'portgroup');
  if (!p) return { value: 'network absent', state: null };
  const { portgroup } = splitPortgroupSubject(step.subject);
  const find = (xml: string) => parseNetworkXml(xml).portgroups.find((pg) => pg.name === portgroup) ?? null;
  const config = find(p.inactive);
  const live = p.info.active ? find(p.live) : null;
  const state = { config, live, active: p.info.active };
  return { value: portgroupStateValue(state), state };
}

export function portgroupStateValue(s: PortgroupState): string {
  if (!s) return 'network absent';
  return s.active
    ? `config=${portgroupValue(s.config)} live=${portgroupValue(s.live)}`
    : `config=${portgroupValue(s.config)} (network inactive)`;
}

/**
 * `net-update` changes the running network and its definition at once (--live --config);
 * without both flags only one of them changes (docs/lab.md). add or modify is chosen from what
 * is there; an inactive network only gets --config.
 */
export function portgroupUpdate(network: string, pg: Portgroup, before: PortgroupState, remove = false): StepAction {
  const present = Boolean(before?.config || before?.live);
  const verb = remove ? 'delete' : present ? 'modify' : 'add';
  const flags = before?.active === false ? ['--config'] : ['--live', '--config'];
  const xml = remove ? `<portgroup name='${xmlEscape(pg.name)}'/>` : portgroupXml(pg).replace(/\n\s*/g, '');
  return { argv: [...VIRSH, 'net-update', ...flags, '--', network, verb, 'portgroup', xml] };
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
    cachedNetwork === undefined
      ? undefined
      : cachedNetwork === null
        ? null
        : { config: cachedPg, live: cachedNetwork.active ? cachedPg : null, active: cachedNetwork.active };
  const wanted = remove ? ABSENT : portgroupValue(pg);
  const step: PlanStep = {
    host,
    subject: `${network}/${pg.name}`,
    description: remove
      ? `ensure portgroup ${pg.name} is removed from network ${network} (live and persistent)`
      : `ensure portgroup ${portgroupValue(pg)} in network ${network} (live and persistent)`,
    probe: { kind: 'libvirt-portgroup', argv: networkProbeArgv(network, marker), marker },
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
  // The planned argv: VIRSH net-update FLAGS -- NETWORK VERB portgroup XML (portgroupUpdate).
  const argv = step.apply!.argv;
  const end = argv.indexOf('--', argv.indexOf('net-update'));
  const [network, planned, , xml] = argv.slice(end + 1) as [string, string, string, string];
  const remove = planned === 'delete';
  const present = Boolean(before?.config || before?.live);
  const verb = remove ? 'delete' : present ? 'modify' : 'add';
  const flags = before?.active === false ? ['--config'] : ['--live', '--config'];
  return { argv: [...VIRSH, 'net-update', ...flags, '--', network, verb, 'portgroup', xml] };
}

export function undoPortgroup(before: PortgroupState, step: PlanStep): StepAction | null {
  if (!before) return null;
  const { network, portgroup } = splitPortgroupSubject(step.subject);
  if (!before.config) return portgroupUpdate(network, { name: portgroup, isDefault: false, vlan: null }, before, true);
  return portgroupUpdate(network, before.config, before);
}

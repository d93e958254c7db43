import { ErrorCode, TrunklineError } from '../../errors/codes.ts';
import { domainXml, interfaceXml, TRUNKLINE_XMLNS, type NicSpec, type VmSpec } from '../../libvirt/domain-build.ts';
import { memoryToKiB, parseDomainXml } from '../../libvirt/domain-xml.ts';
import { withUuid } from '../../libvirt/network-build.ts';
import type { Domain, DomainInterface } from '../../libvirt/types.ts';
import { VIRSH } from '../../libvirt/virsh-batch.ts';
import { stderrExcerpt } from '../../ssh/command-output.ts';
import type { ExecResult } from '../../ssh/runner.ts';
import { ABSENT, judged, type PlanStep, type StepAction } from '../plan.ts';

const NOT_FOUND = /Domain not found|failed to get domain/;

function output(r: ExecResult): string | null {
  if (r.exitCode === 0) return r.stdout;
  if (NOT_FOUND.test(r.stderr)) return null;
  throw new TrunklineError(ErrorCode.COMMAND_FAILED, `virsh exited ${r.exitCode}: ${stderrExcerpt(r.stderr)}`);
}

/* ---- the persistent definition ---- */

export type VmDefState = { xml: string; dom: Omit<Domain, 'state'>; managed: boolean } | null;

const nicValue = (n: { mac: string | null; network: string | null; portgroup: string | null; model: string | null }) =>
  `${n.mac}@${n.network ?? '?'}/${n.portgroup ?? '-'}(${n.model ?? '?'})`;

export function vmDefValue(d: { vcpus: number; memoryKiB: number; interfaces: Array<Parameters<typeof nicValue>[0]> } | null): string {
  if (!d) return ABSENT;
  const nics = d.interfaces.map(nicValue).sort();
  return `vcpus=${d.vcpus} memory=${Math.round(d.memoryKiB / 1024)}MiB nics=[${nics.join(', ')}]`;
}

export function readVmDef(r: ExecResult): { value: string; state: VmDefState } {
  const xml = output(r);
  if (xml === null) return { value: ABSENT, state: null };
  const dom = parseDomainXml(xml);
  return { value: vmDefValue(dom), state: { xml, dom, managed: xml.includes(TRUNKLINE_XMLNS) } };
}

/**
 * Every virsh command with a VM's name ends its options with `--` before it, so that no name can
 * be read as an option (names are validated too: src/validation/names.ts). Options go in front
 * of `--`: virsh reads whatever follows it as positionals.
 */
const defProbe = (name: string) => ({ kind: 'libvirt-vm-def' as const, argv: [...VIRSH, 'dumpxml', '--inactive', '--', name] });

export function vmDefinedStep(host: string, vm: VmSpec, cached: Omit<Domain, 'state'> | null | undefined): PlanStep {
  const wanted = vmDefValue({ vcpus: vm.vcpus, memoryKiB: memoryToKiB(String(vm.memoryMiB), 'MiB'), interfaces: vm.nics });
  return judged(
    {
      host,
      subject: vm.name,
      description: `ensure VM ${vm.name} is defined (${vm.vcpus} vCPU, ${vm.memoryMiB} MiB, ${vm.nics.length} NIC${vm.nics.length === 1 ? '' : 's'})`,
      probe: defProbe(vm.name),
      wanted,
      apply: { argv: [...VIRSH, 'define', '/dev/stdin'], stdin: domainXml(vm) },
    },
    cached === undefined ? null : vmDefValue(cached),
  );
}

export function vmUndefinedStep(host: string, name: string, cached: Omit<Domain, 'state'> | null | undefined): PlanStep {
  return judged(
    {
      host,
      subject: name,
      description: `ensure VM ${name} is undefined`,
      probe: defProbe(name),
      wanted: ABSENT,
      apply: { argv: [...VIRSH, 'undefine', '--', name] },
    },
    cached === undefined ? null : vmDefValue(cached),
  );
}

/**
 * Never redefine a VM Trunkline did not create: our minimal XML would drop its disks. One it
 * did create is redefined with its own UUID: libvirt refuses a known name with another (or no)
 * UUID ("domain ... already exists with uuid ...").
 */
export function applyVmDef(before: VmDefState, step: PlanStep): StepAction {
  if (!before || step.wanted === ABSENT || !step.apply?.stdin) return step.apply!;
  if (!before.managed)
    throw new TrunklineError(
      ErrorCode.VM_NOT_MANAGED,
      `VM ${step.subject} exists and was not defined by Trunkline; refusing to redefine it`,
    );
  return { ...step.apply, stdin: withUuid(step.apply.stdin, before.dom.uuid) };
}

export function undoVmDef(before: VmDefState, step: PlanStep): StepAction | null {
  if (before === null) return step.wanted === ABSENT ? null : { argv: [...VIRSH, 'undefine', '--', step.subject] };
  return { argv: [...VIRSH, 'define', '/dev/stdin'], stdin: before.xml };
}

/* ---- run state ---- */

export function readVmState(r: ExecResult): { value: string; state: string | null } {
  const text = output(r);
  return text === null ? { value: ABSENT, state: null } : { value: text.trim(), state: text.trim() };
}

const stateProbe = (name: string) => ({ kind: 'libvirt-vm-state' as const, argv: [...VIRSH, 'domstate', '--', name] });

export function vmRunningStep(host: string, name: string, cached: string | null | undefined): PlanStep {
  return judged(
    {
      host,
      subject: name,
      description: `ensure VM ${name} is running`,
      probe: stateProbe(name),
      wanted: 'running',
      apply: { argv: [...VIRSH, 'start', '--', name] },
    },
    cached === undefined ? null : (cached ?? ABSENT),
  );
}

/**
 * Graceful stop: ACPI shutdown, then wait up to `waitMs` for the guest; with force, a guest
 * that does not react (no OS, hung) is then destroyed (powered off).
 */
export function vmStoppedStep(host: string, name: string, cached: string | null | undefined, waitMs: number, force: boolean): PlanStep {
  return {
    ...judged(
      {
        host,
        subject: name,
        description: `ensure VM ${name} is shut off (ACPI shutdown, wait ${Math.round(waitMs / 1000)} s${force ? ', then force off' : ''})`,
        probe: stateProbe(name),
        wanted: 'shut off',
        apply: { argv: [...VIRSH, 'shutdown', '--', name] },
      },
      cached === undefined ? null : (cached ?? ABSENT),
    ),
    waitMs,
    ...(force
      ? { fallback: { argv: [...VIRSH, 'destroy', '--', name] } }
      : { hint: 'the guest ignored the ACPI shutdown; stopVm with force: true powers it off' }),
  };
}

export function undoVmState(before: string | null, step: PlanStep): StepAction | null {
  if (before === null || before === step.wanted) return null;
  if (before === 'running') return { argv: [...VIRSH, 'start', '--', step.subject] };
  if (before === 'shut off') return { argv: [...VIRSH, 'destroy', '--', step.subject] };
  return null;
}

/* ---- one NIC, in the definition and in the running VM ---- */

export type NicState = { running: boolean; config: DomainInterface | null; live: DomainInterface | null; model: string | null } | null;

export function splitNicSubject(subject: string): { vm: string; mac: string } {
  const i = subject.lastIndexOf('/');
  return { vm: subject.slice(0, i), mac: subject.slice(i + 1) };
}

/** `virsh attach-device|detach-device|update-device FLAGS -- VM /dev/stdin` (the device XML on stdin). */
function deviceArgv(verb: 'attach-device' | 'detach-device' | 'update-device', vm: string, flags: readonly string[]): string[] {
  return [...VIRSH, verb, ...flags, '--', vm, '/dev/stdin'];
}

export function nicProbeArgv(vm: string, marker: string): string[] {
  return [...VIRSH, `domstate -- ${vm}; echo ${marker}; dumpxml --inactive -- ${vm}; echo ${marker}; dumpxml -- ${vm}`];
}

const where = (i: DomainInterface | null) => (i ? `${i.network ?? '?'}/${i.portgroup ?? '-'}` : ABSENT);

export function readNic(r: ExecResult, step: PlanStep): { value: string; state: NicState } {
  const sections = r.stdout.split(`${step.probe.marker}\n`);
  if (sections.length !== 3 || sections[0]!.trim() === '') {
    if (NOT_FOUND.test(r.stderr)) return { value: 'vm absent', state: null };
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `NIC probe: expected 3 sections, got ${sections.length}: ${r.stderr.trim()}`);
  }
  const { mac } = splitNicSubject(step.subject);
  const running = sections[0]!.trim() === 'running';
  const find = (xml: string) => parseDomainXml(xml).interfaces.find((i) => i.mac?.toLowerCase() === mac.toLowerCase()) ?? null;
  const config = find(sections[1]!);
  const live = running ? find(sections[2]!) : null;
  const state = { running, config, live, model: config?.model ?? live?.model ?? null };
  return { value: running ? `config=${where(config)} live=${where(live)}` : `config=${where(config)} (VM not running)`, state };
}

/** The NIC is in the definition as wanted and, while the VM runs, plugged in too. */
export function nicMatches(state: NicState, wanted: string): boolean {
  if (!state) return false;
  return where(state.config) === wanted && (!state.running || where(state.live) === wanted);
}

export function nicStep(
  host: string,
  vm: string,
  nic: NicSpec | { mac: string; network: null; portgroup: null; model: string },
  marker: string,
  cachedValue: string | null,
  remove = false,
): PlanStep {
  const subject = `${vm}/${nic.mac}`;
  const wanted = remove ? ABSENT : `${nic.network}/${nic.portgroup ?? '-'}`;
  return judged(
    {
      host,
      subject,
      description: remove
        ? `ensure NIC ${nic.mac} is detached from VM ${vm} (live and persistent)`
        : `ensure VM ${vm} has NIC ${nic.mac} on ${wanted} (live and persistent)`,
      probe: { kind: 'libvirt-vm-nic', argv: nicProbeArgv(vm, marker), marker },
      wanted,
      apply: {
        argv: deviceArgv(remove ? 'detach-device' : 'attach-device', vm, ['--config', '--live']),
        stdin: remove ? detachXml(nic.mac) : interfaceXml(nic as NicSpec),
      },
    },
    cachedValue,
  );
}

const detachXml = (mac: string) => `<interface type='network'><mac address='${mac}'/></interface>`;

/** Attach or detach only where needed: the definition and/or the running VM. */
export function applyNic(before: NicState, step: PlanStep): StepAction {
  const { vm, mac } = splitNicSubject(step.subject);
  if (!before) throw new TrunklineError(ErrorCode.NOT_FOUND, `VM ${vm} does not exist`);
  const remove = step.wanted === ABSENT;
  const flags = remove
    ? [...(before.config ? ['--config'] : []), ...(before.running && before.live ? ['--live'] : [])]
    : [...(before.config ? [] : ['--config']), ...(before.running && !before.live ? ['--live'] : [])];
  const argv = deviceArgv(remove ? 'detach-device' : 'attach-device', vm, flags);
  if (!remove) return { argv, stdin: step.apply!.stdin };
  // libvirt wants the device as defined (type network needs its source), matched by MAC.
  const was = before.config ?? before.live;
  return {
    argv,
    stdin: was?.network
      ? interfaceXml({ mac, network: was.network, portgroup: was.portgroup, model: was.model ?? 'virtio' })
      : step.apply!.stdin,
  };
}

export function undoNic(before: NicState, step: PlanStep): StepAction | null {
  if (!before) return null;
  const { vm, mac } = splitNicSubject(step.subject);
  if (step.wanted === ABSENT) {
    const was = before.config ?? before.live;
    if (!was) return null;
    const flags = [...(before.config ? ['--config'] : []), ...(before.running && before.live ? ['--live'] : [])];
    return {
      argv: deviceArgv('attach-device', vm, flags),
      stdin: interfaceXml({ mac, network: was.network ?? '', portgroup: was.portgroup, model: was.model ?? 'virtio' }),
    };
  }
  const flags = [...(before.config ? [] : ['--config']), ...(before.running && !before.live ? ['--live'] : [])];
  return flags.length ? { argv: deviceArgv('detach-device', vm, flags), stdin: detachXml(mac) } : null;
}

/* ---- a NIC's portgroup in the definition (the live port is retagged by an OVS step) ---- */

export function nicPortgroupStep(
  host: string,
  vm: string,
  mac: string,
  network: string,
  portgroup: string,
  marker: string,
  cachedValue: string | null,
): PlanStep {
  return judged(
    {
      host,
      subject: `${vm}/${mac}`,
      description: `move NIC ${mac} of VM ${vm} to portgroup ${portgroup} in its definition`,
      probe: { kind: 'libvirt-vm-nic-portgroup', argv: nicProbeArgv(vm, marker), marker },
      wanted: `${network}/${portgroup}`,
      apply: { argv: deviceArgv('update-device', vm, ['--config']), stdin: interfaceXml({ mac, network, portgroup, model: 'virtio' }) },
    },
    cachedValue,
  );
}

export function readNicConfig(r: ExecResult, step: PlanStep): { value: string; state: NicState } {
  const read = readNic(r, step);
  return { value: read.state ? where(read.state.config) : read.value, state: read.state };
}

/** update-device needs the NIC's full description: keep its model. */
export function applyNicPortgroup(before: NicState, step: PlanStep): StepAction {
  if (!before?.config)
    throw new TrunklineError(ErrorCode.NOT_FOUND, `VM ${splitNicSubject(step.subject).vm} has no NIC ${splitNicSubject(step.subject).mac}`);
  const [network, portgroup] = step.wanted.split('/') as [string, string];
  const { mac } = splitNicSubject(step.subject);
  return { argv: step.apply!.argv, stdin: interfaceXml({ mac, network, portgroup, model: before.config.model ?? 'virtio' }) };
}

export function undoNicPortgroup(before: NicState, step: PlanStep): StepAction | null {
  const c = before?.config;
  if (!c) return null;
  const { vm, mac } = splitNicSubject(step.subject);
  return {
    argv: deviceArgv('update-device', vm, ['--config']),
    stdin: interfaceXml({ mac, network: c.network ?? '', portgroup: c.portgroup, model: c.model ?? 'virtio' }),
  };
}

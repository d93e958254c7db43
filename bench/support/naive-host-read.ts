/**
 * What a simple script would do to read the same facts as readHostState(): list the objects,
 * then ask for each object separately (one SSH exec per port, two per VM, two per network).
 * Only the benchmark uses this, as the baseline the two-round-trip read is compared with.
 */
import { ErrorCode, TrunklineError } from '../../src/errors/codes.ts';
import type { Host } from '../../src/inventory/host-registry.ts';
import { parseDomainXml } from '../../src/libvirt/domain-xml.ts';
import { parseNetInfo, parseNetworkXml } from '../../src/libvirt/network-xml.ts';
import { VIRSH } from '../../src/libvirt/virsh-batch.ts';
import type { CommandRunner } from '../../src/ssh/runner.ts';

/** What was read: counts, to check that the naive read saw what readHostState saw. */
export interface NaiveReadResult {
  bridges: number;
  ports: number;
  domains: number;
  domainInterfaces: number;
  networks: number;
}

type Run = (argv: string[]) => Promise<string>;

function runnerFor(runner: CommandRunner, host: Host, timeoutMs: number): Run {
  return async (argv) => {
    const r = await runner.exec(host, argv, { timeoutMs });
    if (r.exitCode !== 0)
      throw new TrunklineError(ErrorCode.COMMAND_FAILED, `${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.trim().slice(0, 300)}`);
    return r.stdout;
  };
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

const OVS = ['ovs-vsctl', '--timeout=10'];
/** Port columns plus the same-named interface's columns: one exec per port. */
const portArgv = (p: string) => [
  ...OVS,
  'get',
  'Port',
  p,
  'tag',
  'trunks',
  'vlan_mode',
  '--',
  'get',
  'Interface',
  p,
  'type',
  'ofport',
  'external_ids',
];

function parsePortGet(p: string, out: string): { tag: number | null; trunks: number[] } {
  const [tag, trunks] = lines(out);
  if (tag === undefined || trunks === undefined)
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `ovs-vsctl get Port ${p}: ${out.slice(0, 200)}`);
  return {
    tag: tag === '[]' ? null : Number(tag),
    trunks: trunks
      .replace(/[[\]\s]/g, '')
      .split(',')
      .filter(Boolean)
      .map(Number),
  };
}

/** Strictly one exec after the other, as a shell loop would. */
export async function naiveReadSequential(runner: CommandRunner, host: Host, timeoutMs: number): Promise<NaiveReadResult> {
  const run = runnerFor(runner, host, timeoutMs);
  const res: NaiveReadResult = { bridges: 0, ports: 0, domains: 0, domainInterfaces: 0, networks: 0 };
  await run(['ovs-appctl', '--timeout=10', 'version']);
  for (const br of lines(await run([...OVS, 'list-br']))) {
    res.bridges++;
    // list-ports omits the bridge's own internal port; readHostState's snapshot includes it.
    for (const p of [br, ...lines(await run([...OVS, 'list-ports', br]))]) {
      parsePortGet(p, await run(portArgv(p)));
      res.ports++;
    }
  }
  await run([...VIRSH, 'version']);
  for (const name of lines(await run([...VIRSH, 'list', '--all', '--name']))) {
    const dom = parseDomainXml(await run([...VIRSH, 'dumpxml', name]));
    await run([...VIRSH, 'domstate', name]);
    res.domains++;
    res.domainInterfaces += dom.interfaces.length;
  }
  for (const name of lines(await run([...VIRSH, 'net-list', '--all', '--name']))) {
    parseNetworkXml(await run([...VIRSH, 'net-dumpxml', name]));
    parseNetInfo(await run([...VIRSH, 'net-info', name]));
    res.networks++;
  }
  return res;
}

/**
 * The same execs, but every per-object exec is issued as soon as its list is known, all at
 * once; the pool still runs at most maxChannels of them at a time on the connection.
 */
export async function naiveReadParallel(runner: CommandRunner, host: Host, timeoutMs: number): Promise<NaiveReadResult> {
  const run = runnerFor(runner, host, timeoutMs);
  const ovs = async () => {
    const bridges = lines(await run([...OVS, 'list-br']));
    const perBridge = await Promise.all(bridges.map(async (br) => [br, ...lines(await run([...OVS, 'list-ports', br]))]));
    const ports = perBridge.flat();
    await Promise.all(ports.map(async (p) => parsePortGet(p, await run(portArgv(p)))));
    return { bridges: bridges.length, ports: ports.length };
  };
  const domains = async () => {
    const names = lines(await run([...VIRSH, 'list', '--all', '--name']));
    const doms = await Promise.all(
      names.map(async (name) => {
        const [xml] = await Promise.all([run([...VIRSH, 'dumpxml', name]), run([...VIRSH, 'domstate', name])]);
        return parseDomainXml(xml);
      }),
    );
    return { domains: doms.length, domainInterfaces: doms.reduce((n, d) => n + d.interfaces.length, 0) };
  };
  const networks = async () => {
    const names = lines(await run([...VIRSH, 'net-list', '--all', '--name']));
    await Promise.all(
      names.map(async (name) => {
        const [xml, info] = await Promise.all([run([...VIRSH, 'net-dumpxml', name]), run([...VIRSH, 'net-info', name])]);
        parseNetworkXml(xml);
        parseNetInfo(info);
      }),
    );
    return { networks: names.length };
  };
  const [o, d, n] = await Promise.all([
    ovs(),
    domains(),
    networks(),
    run(['ovs-appctl', '--timeout=10', 'version']),
    run([...VIRSH, 'version']),
  ]);
  return { ...o, ...d, ...n };
}

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeClient } from '../support/changes.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { startTrunkline, type Trunkline } from '../support/trunkline.ts';

/**
 * Regression for argument injection (CWE-88): `createBridge(name: "--help")` used to make an OVS
 * bridge called `--help`. Names that start with '-' are read as options by ip, ovs-vsctl and
 * virsh; every identifier is refused through the public API, naming the field, before any job.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const HOSTS = ['hv1', 'hv2'];
const BAD = ['--help', '-x'];
const WHY = 'must not start with "-" (it would be read as an option)';

let tl: Trunkline;
const { change } = changeClient(() => tl.url);
const jobsQueued = async () => Object.values(await tl.queue.getJobCounts()).reduce((a, b) => a + b, 0);
const lines = async (host: string, ...argv: string[]) => {
  const r = await labExec(labEnv, host, argv);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
};

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
});

afterAll(async () => {
  await tl?.stop();
});

/** [mutation, input with the bad name in one field, that field's path under input] */
const CASES: Array<[string, (bad: string) => Record<string, unknown>, string]> = [
  ['createBridge', (b) => ({ hypervisor: 'hv1', name: b }), 'name'],
  ['addPort', (b) => ({ hypervisor: 'hv1', name: b, tag: 5 }), 'name'],
  ['addPort', (b) => ({ hypervisor: 'hv1', bridge: b, name: 'tip1', tag: 5 }), 'bridge'],
  ['defineNetwork', (b) => ({ hypervisor: 'hv1', name: b }), 'name'],
  ['defineNetwork', (b) => ({ hypervisor: 'hv1', name: 'tinet', bridge: b }), 'bridge'],
  ['defineNetwork', (b) => ({ hypervisor: 'hv1', name: 'tinet', portgroups: [{ name: b }] }), 'portgroups.0.name'],
  ['defineVm', (b) => ({ hypervisor: 'hv1', name: b }), 'name'],
  ['defineVm', (b) => ({ hypervisor: 'hv1', name: 'tivm', nics: [{ network: b }] }), 'nics.0.network'],
  ['defineVm', (b) => ({ hypervisor: 'hv1', name: 'tivm', nics: [{ portgroup: b }] }), 'nics.0.portgroup'],
  ['ensureVlan', (b) => ({ tag: 1009, hypervisors: HOSTS, bridge: b }), 'bridge'],
  ['ensureVlan', (b) => ({ tag: 1009, hypervisors: HOSTS, uplink: b }), 'uplink'],
  ['ensureVlan', (b) => ({ tag: 1009, hypervisors: HOSTS, network: b }), 'network'],
  ['ensureVlan', (b) => ({ tag: 1009, hypervisors: HOSTS, portgroup: b }), 'portgroup'],
];

describe('identifiers starting with "-"', () => {
  it.each(CASES.flatMap(([m, input, field]) => BAD.map((bad) => [m, field, bad, input] as const)))(
    '%s with %s %j is refused naming the field, and nothing is queued',
    async (mutation, field, bad, input) => {
      const before = await jobsQueued();
      const payload = await change(mutation, input(bad));
      expect(payload.job).toBeNull();
      expect(payload.userErrors).toEqual([{ field: ['input', ...field.split('.')], code: 'INVALID_INPUT', message: `${field}: ${WHY}` }]);
      expect(await jobsQueued()).toBe(before);
    },
  );

  it.each(BAD)('registerHypervisor with defaults.bridge %j is refused and registers nothing', async (bad) => {
    const before = await jobsQueued();
    const res = await gql(
      tl.url,
      `mutation($input: RegisterHypervisorInput!) { registerHypervisor(input: $input) { hypervisor { name } job { id } userErrors { field code message } } }`,
      {
        input: {
          name: 'hv-inject',
          address: '127.0.0.1',
          user: 'trunkline',
          privateKeyPath: '/nonexistent',
          hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
          defaults: { bridge: bad, uplink: bad, network: bad },
        },
      },
    );
    expect(res.errors).toBeUndefined();
    const p = res.data.registerHypervisor;
    expect(p).toMatchObject({ hypervisor: null, job: null });
    expect(p.userErrors).toEqual(
      ['bridge', 'uplink', 'network'].map((f) => ({
        field: ['input', 'defaults', f],
        code: 'INVALID_INPUT',
        message: `defaults.${f}: ${WHY}`,
      })),
    );
    expect(await tl.redis.hexists(`${tl.prefix}:hosts`, 'hv-inject')).toBe(0);
    expect(await jobsQueued()).toBe(before);
  });

  it('left nothing named like an option on the hosts', async () => {
    for (const host of HOSTS) {
      const objects = [
        ...(await lines(host, 'ovs-vsctl', 'list-br')),
        ...(await lines(host, 'ovs-vsctl', '--format=csv', '--no-headings', '--columns=name', 'list', 'Port')),
        ...(await lines(host, 'virsh', 'net-list', '--all', '--name')),
        ...(await lines(host, 'virsh', 'list', '--all', '--name')),
      ];
      expect(
        objects.filter((n) => n.replace(/^"+/, '').startsWith('-')),
        `${host}: ${objects.join(' ')}`,
      ).toEqual([]);
      // Bridge names after the command word are data to ovs-vsctl: exit 2 means "no such bridge".
      for (const bad of BAD) expect((await labExec(labEnv, host, ['ovs-vsctl', 'br-exists', bad])).code).toBe(2);
    }
  });
});

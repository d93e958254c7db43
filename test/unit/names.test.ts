import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AddPortgroupInput,
  AddPortInput,
  AttachVmInterfaceInput,
  CreateBridgeInput,
  DefineNetworkInput,
  DefineVmInput,
  DeleteBridgeInput,
  DeleteNetworkInput,
  DetachVmInterfaceInput,
  EnsureVlanInput,
  RefreshHypervisorInput,
  RegisterHypervisorInput,
  RemovePortgroupInput,
  RemovePortInput,
  RemoveVlanInput,
  SetPortVlansInput,
  SetVmInterfaceVlanInput,
  StopVmInput,
  VerifyVlanInput,
  VmRef,
} from '../../src/changes/inputs.ts';
import { userErrorsFromZod } from '../../src/changes/user-errors.ts';
import { InventoryHost } from '../../src/inventory/inventory-file.ts';
import { HypervisorName, InterfaceName, LibvirtName, OPTION_LIKE_MESSAGE, PosixUserName, VlanId } from '../../src/validation/names.ts';

describe('InterfaceName', () => {
  it.each(['ovsbr0', 'br-int', 'a', 'vlan.1001', 'x'.repeat(15), 'enp5s0f0'])('accepts %s', (n) => {
    expect(InterfaceName.safeParse(n).success).toBe(true);
  });
  it.each([
    ['', /empty/],
    ['x'.repeat(16), /15/],
    ['br0; rm -rf /', /letters, digits/],
    ['br/0', /letters/],
    ['br:0', /letters/],
    ['br 0', /letters/],
    ['$(id)', /letters/],
    ['..', /"\."/],
    ['brü', /letters/],
  ])('refuses %j', (n, why) => {
    const r = InterfaceName.safeParse(n);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join(' ')).toMatch(why);
  });
});

describe('VlanId', () => {
  it.each([1, 1001, 4094])('accepts %d', (v) => expect(VlanId.safeParse(v).success).toBe(true));
  it.each([0, 4095, -1, 1.5])('refuses %d', (v) => expect(VlanId.safeParse(v).success).toBe(false));
});

describe('CreateBridgeInput → userErrors', () => {
  it('names each offending field under input', () => {
    const r = CreateBridgeInput.safeParse({ hypervisor: 'hv 1', name: 'br0; rm -rf /' });
    expect(r.success).toBe(false);
    const errors = userErrorsFromZod(r.error!);
    expect(errors.map((e) => e.field)).toEqual([
      ['input', 'hypervisor'],
      ['input', 'name'],
    ]);
    expect(errors.every((e) => e.code === 'INVALID_INPUT')).toBe(true);
    expect(errors[1]!.message).toMatch(/^name: /);
  });

  it('defaults dryRun to false and keeps a ticket reference', () => {
    const r = CreateBridgeInput.parse({ hypervisor: 'hv1', name: 'ovsbr0', ticketRef: 'NET-1234' });
    expect(r).toMatchObject({ dryRun: false, ticketRef: 'NET-1234' });
  });

  it('refuses a ticket reference with shell metacharacters', () => {
    const r = CreateBridgeInput.safeParse({ hypervisor: 'hv1', name: 'ovsbr0', ticketRef: 'NET-1; id' });
    expect(userErrorsFromZod(r.error!)[0]!.field).toEqual(['input', 'ticketRef']);
  });
});

// Argument injection (CWE-88): a name starting with '-' is read as an option by ip, ovs-vsctl
// and virsh, however it is quoted. Every identifier that can reach a host refuses it.
const OPTION_LIKE = ['-x', '--help', '-', '--', '-oX=id'];

describe.each([
  ['InterfaceName', InterfaceName],
  ['HypervisorName', HypervisorName],
  ['LibvirtName', LibvirtName],
])('%s', (_name, schema: z.ZodType) => {
  it.each(OPTION_LIKE)('refuses %j, saying why, in one issue', (n) => {
    const r = schema.safeParse(n);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message)).toEqual([OPTION_LIKE_MESSAGE]);
  });
  it.each(['.', '..'])('refuses %j', (n) => expect(schema.safeParse(n).success).toBe(false));
  it.each(['a-b', 'x.y', 'a--b', 'x-'])('accepts %j', (n) => expect(schema.safeParse(n).success).toBe(true));
});

describe('PosixUserName', () => {
  it.each(['-x', '--help'])('refuses %j', (n) =>
    expect(PosixUserName.safeParse(n).error!.issues.map((i) => i.message)).toEqual([OPTION_LIKE_MESSAGE]),
  );
  it.each(['.', '..', 'root!'])('refuses %j', (n) => expect(PosixUserName.safeParse(n).success).toBe(false));
  it.each(['a-b', 'trunkline', '_ops'])('accepts %j', (n) => expect(PosixUserName.safeParse(n).success).toBe(true));
});

const H = { hypervisor: 'hv1' };
const MAC = '52:54:00:12:34:56';
const REG = {
  name: 'hv9',
  address: '10.0.0.9',
  user: 'trunkline',
  privateKeyPath: '/k',
  hostKeyFingerprint: 'SHA256:uQ8t0pXo3rXGZ2n2cB8Hn8kqJvJY4m6bXo0mJq3mZ7c',
};
const INV = { ...REG, port: 22 };

/** [schema name, schema, valid input with BAD in one field, that field's path] */
const FIELDS: Array<[string, z.ZodType, (bad: string) => unknown, string]> = [
  ['CreateBridgeInput', CreateBridgeInput, (b) => ({ ...H, name: b }), 'name'],
  ['DeleteBridgeInput', DeleteBridgeInput, (b) => ({ ...H, name: b }), 'name'],
  ['AddPortInput', AddPortInput, (b) => ({ ...H, name: b, tag: 5 }), 'name'],
  ['AddPortInput', AddPortInput, (b) => ({ ...H, bridge: b, name: 'p1', tag: 5 }), 'bridge'],
  ['RemovePortInput', RemovePortInput, (b) => ({ ...H, name: b }), 'name'],
  ['SetPortVlansInput', SetPortVlansInput, (b) => ({ ...H, name: b, tag: 5 }), 'name'],
  ['DefineNetworkInput', DefineNetworkInput, (b) => ({ ...H, name: b }), 'name'],
  ['DefineNetworkInput', DefineNetworkInput, (b) => ({ ...H, bridge: b }), 'bridge'],
  ['DefineNetworkInput', DefineNetworkInput, (b) => ({ ...H, portgroups: [{ name: b }] }), 'portgroups.0.name'],
  ['DeleteNetworkInput', DeleteNetworkInput, (b) => ({ ...H, name: b }), 'name'],
  ['AddPortgroupInput', AddPortgroupInput, (b) => ({ ...H, network: b, portgroup: { name: 'pg' } }), 'network'],
  ['AddPortgroupInput', AddPortgroupInput, (b) => ({ ...H, portgroup: { name: b } }), 'portgroup.name'],
  ['RemovePortgroupInput', RemovePortgroupInput, (b) => ({ ...H, network: b, name: 'pg' }), 'network'],
  ['RemovePortgroupInput', RemovePortgroupInput, (b) => ({ ...H, name: b }), 'name'],
  ['DefineVmInput', DefineVmInput, (b) => ({ ...H, name: b }), 'name'],
  ['DefineVmInput', DefineVmInput, (b) => ({ ...H, name: 'vm', nics: [{ network: b }] }), 'nics.0.network'],
  ['DefineVmInput', DefineVmInput, (b) => ({ ...H, name: 'vm', nics: [{ portgroup: b }] }), 'nics.0.portgroup'],
  ['VmRef', VmRef, (b) => ({ ...H, name: b }), 'name'],
  ['StopVmInput', StopVmInput, (b) => ({ ...H, name: b }), 'name'],
  ['AttachVmInterfaceInput', AttachVmInterfaceInput, (b) => ({ ...H, vm: b }), 'vm'],
  ['AttachVmInterfaceInput', AttachVmInterfaceInput, (b) => ({ ...H, vm: 'vm', network: b }), 'network'],
  ['AttachVmInterfaceInput', AttachVmInterfaceInput, (b) => ({ ...H, vm: 'vm', portgroup: b }), 'portgroup'],
  ['DetachVmInterfaceInput', DetachVmInterfaceInput, (b) => ({ ...H, vm: b, mac: MAC }), 'vm'],
  ['SetVmInterfaceVlanInput', SetVmInterfaceVlanInput, (b) => ({ ...H, vm: b, mac: MAC, portgroup: 'pg' }), 'vm'],
  ['SetVmInterfaceVlanInput', SetVmInterfaceVlanInput, (b) => ({ ...H, vm: 'vm', mac: MAC, portgroup: b }), 'portgroup'],
  ['EnsureVlanInput', EnsureVlanInput, (b) => ({ tag: 5, hypervisors: [b] }), 'hypervisors.0'],
  ['EnsureVlanInput', EnsureVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], bridge: b }), 'bridge'],
  ['EnsureVlanInput', EnsureVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], uplink: b }), 'uplink'],
  ['EnsureVlanInput', EnsureVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], network: b }), 'network'],
  ['EnsureVlanInput', EnsureVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], portgroup: b }), 'portgroup'],
  ['RemoveVlanInput', RemoveVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], network: b }), 'network'],
  ['RemoveVlanInput', RemoveVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], portgroup: b }), 'portgroup'],
  ['VerifyVlanInput', VerifyVlanInput, (b) => ({ tag: 5, hypervisors: ['hv1'], bridge: b }), 'bridge'],
  ['RefreshHypervisorInput', RefreshHypervisorInput, (b) => ({ hypervisors: [b] }), 'hypervisors.0'],
  ['RegisterHypervisorInput', RegisterHypervisorInput, (b) => ({ ...REG, name: b }), 'name'],
  ['RegisterHypervisorInput', RegisterHypervisorInput, (b) => ({ ...REG, address: b }), 'address'],
  ['RegisterHypervisorInput', RegisterHypervisorInput, (b) => ({ ...REG, user: b }), 'user'],
  ['RegisterHypervisorInput', RegisterHypervisorInput, (b) => ({ ...REG, defaults: { bridge: b } }), 'defaults.bridge'],
  ['RegisterHypervisorInput', RegisterHypervisorInput, (b) => ({ ...REG, defaults: { uplink: b } }), 'defaults.uplink'],
  ['RegisterHypervisorInput', RegisterHypervisorInput, (b) => ({ ...REG, defaults: { network: b } }), 'defaults.network'],
  ['InventoryHost', InventoryHost, (b) => ({ ...INV, name: b }), 'name'],
  ['InventoryHost', InventoryHost, (b) => ({ ...INV, address: b }), 'address'],
  ['InventoryHost', InventoryHost, (b) => ({ ...INV, user: b }), 'user'],
  ['InventoryHost', InventoryHost, (b) => ({ ...INV, defaults: { bridge: b } }), 'defaults.bridge'],
  ['InventoryHost', InventoryHost, (b) => ({ ...INV, defaults: { uplink: b } }), 'defaults.uplink'],
  ['InventoryHost', InventoryHost, (b) => ({ ...INV, defaults: { network: b } }), 'defaults.network'],
];

describe('every identifier field refuses option-like names, naming the field', () => {
  it.each(FIELDS.flatMap(([n, schema, input, field]) => ['-x', '--help'].map((bad) => [n, field, bad, schema, input] as const)))(
    '%s.%s = %j',
    (_n, field, bad, schema, input) => {
      const r = schema.safeParse(input(bad));
      expect(r.success).toBe(false);
      expect(userErrorsFromZod(r.error!)).toEqual([
        { field: ['input', ...field.split('.')], code: 'INVALID_INPUT', message: `${field}: ${OPTION_LIKE_MESSAGE}` },
      ]);
    },
  );

  it.each(FIELDS.flatMap(([n, schema, input, field]) => ['.', '..'].map((bad) => [n, field, bad, schema, input] as const)))(
    '%s.%s = %j is refused',
    (_n, field, bad, schema, input) => {
      const r = schema.safeParse(input(bad));
      expect(r.success).toBe(false);
      expect(userErrorsFromZod(r.error!).map((e) => e.field.join('.'))).toContain(`input.${field}`);
    },
  );

  it.each(FIELDS.flatMap(([n, schema, input, field]) => ['a-b', 'x-y'].map((ok) => [n, field, ok, schema, input] as const)))(
    '%s.%s = %j is accepted',
    (_n, _field, ok, schema, input) => {
      const r = schema.safeParse(input(ok));
      expect(r.error?.issues ?? []).toEqual([]);
    },
  );

  it('the original report: createBridge name "--help"', () => {
    const r = CreateBridgeInput.safeParse({ hypervisor: 'hv1', name: '--help' });
    expect(userErrorsFromZod(r.error!)[0]!.message).toBe('name: must not start with "-" (it would be read as an option)');
  });
});

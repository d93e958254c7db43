import { describe, expect, it } from 'vitest';
import { CreateBridgeInput } from '../../src/changes/inputs.ts';
import { userErrorsFromZod } from '../../src/changes/user-errors.ts';
import { InterfaceName, VlanId } from '../../src/validation/names.ts';

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
    expect(errors.map((e) => e.field)).toEqual([['input', 'hypervisor'], ['input', 'name']]);
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

import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  parseExpiry,
  parseIntIn,
  parseList,
  parseNicSpec,
  parsePortgroupSpec,
  parseSeconds,
  parseVlanList,
  parseVlanTag,
} from '../../cli/args.ts';

/** Option parsers: the form of a value is checked before anything is sent (commander reports a refusal naming the option: exit 2). */
describe('argument parsers', () => {
  it('lists', () => {
    expect(parseList('hv1, hv2,,hv3')).toEqual(['hv1', 'hv2', 'hv3']);
    expect(() => parseList(' , ')).toThrow(InvalidArgumentError);
  });

  it('VLAN ids and lists with ranges', () => {
    expect(parseVlanTag('1003')).toBe(1003);
    for (const bad of ['0', '4095', '10a', '-1', '']) expect(() => parseVlanTag(bad)).toThrow(InvalidArgumentError);
    expect(parseVlanList('1001,1003-1005,1001')).toEqual([1001, 1003, 1004, 1005]);
    expect(() => parseVlanList('1005-1003')).toThrow(/backwards/);
  });

  it('whole numbers in a range', () => {
    expect(parseIntIn(1, 64)('8')).toBe(8);
    expect(() => parseIntIn(1, 64)('65')).toThrow(/1\.\.64/);
    expect(() => parseIntIn(1, 64)('1.5')).toThrow(/whole number/);
  });

  it('durations in seconds: plain or with a unit, more than 0', () => {
    expect(['90', '0.5', '30s', '2m', '1h', '250ms'].map(parseSeconds)).toEqual([90, 0.5, 30, 120, 3600, 0.25]);
    for (const bad of ['0', 'soon', '-1', '1w']) expect(() => parseSeconds(bad)).toThrow(InvalidArgumentError);
  });

  it('expiry: a duration from now or an ISO date-time', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseExpiry('90d', now)).toBe('2026-04-01T00:00:00.000Z');
    expect(parseExpiry('12h', now)).toBe('2026-01-01T12:00:00.000Z');
    expect(parseExpiry('2027-01-31T00:00:00Z', now)).toBe('2027-01-31T00:00:00.000Z');
    expect(() => parseExpiry('next week', now)).toThrow(InvalidArgumentError);
  });

  it('portgroups: NAME[=TAGS][:trunk][:default][:native-…]', () => {
    expect(parsePortgroupSpec('vlan-0001:default')).toEqual({ name: 'vlan-0001', vlanTags: [], trunk: false, isDefault: true });
    expect(parsePortgroupSpec('vlan-1001=1001')).toEqual({ name: 'vlan-1001', vlanTags: [1001], trunk: false, isDefault: false });
    expect(parsePortgroupSpec('vlan-all=1001,1002:trunk:native-untagged')).toEqual({
      name: 'vlan-all',
      vlanTags: [1001, 1002],
      trunk: true,
      isDefault: false,
      nativeMode: 'untagged',
    });
    expect(() => parsePortgroupSpec('pg:trunkk')).toThrow(/unknown portgroup flag "trunkk"/);
    expect(() => parsePortgroupSpec('=1001')).toThrow(InvalidArgumentError);
  });

  it('NICs: key=value pairs, a bare word is the portgroup', () => {
    expect(parseNicSpec('vlan-1001')).toEqual({ portgroup: 'vlan-1001' });
    expect(parseNicSpec('network=ovs-network,portgroup=vlan-1002,mac=52:54:00:00:00:01,model=e1000')).toEqual({
      network: 'ovs-network',
      portgroup: 'vlan-1002',
      mac: '52:54:00:00:00:01',
      model: 'e1000',
    });
    expect(() => parseNicSpec('vlan=1001')).toThrow(/unknown NIC key "vlan"/);
  });
});

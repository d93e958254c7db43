import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/inventory-file.ts';

const host = {
  name: 'hv1',
  address: '198.18.0.6',
  port: 22,
  user: 'trunkline',
  privateKeyPath: '/run/trunkline/lab-tl/id_ed25519',
  hostKeyFingerprint: 'SHA256:uQ8t0pXo3rXGZ2n2cB8Hn8kqJvJY4m6bXo0mJq3mZ7c',
  defaults: { bridge: 'ovsbr0', uplink: 'enp5s0f0', network: 'ovs-network' },
};

describe('parseInventory', () => {
  it('reads the lab inventory shape', () => {
    const inv = parseInventory(JSON.stringify({ version: 1, lab: 'tl', hypervisors: [host] }));
    expect(inv.hypervisors[0]).toMatchObject({ name: 'hv1', port: 22, defaults: { bridge: 'ovsbr0' } });
  });
  it('names the bad field', () => {
    expect(() => parseInventory(JSON.stringify({ version: 1, hypervisors: [{ ...host, hostKeyFingerprint: 'MD5:xx' }] }))).toThrow(
      /hypervisors\.0\.hostKeyFingerprint/,
    );
  });
  it('refuses duplicate names', () => {
    expect(() => parseInventory(JSON.stringify({ version: 1, hypervisors: [host, host] }))).toThrow(/duplicate hypervisor hv1/);
  });
  it('says when the file is not JSON', () => {
    expect(() => parseInventory('{', '/x.json')).toThrow(/x\.json: not valid JSON/);
  });
});

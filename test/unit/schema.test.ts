import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../graphql/schema.ts';

describe('graphql/schema.graphql', () => {
  it('is the printed form of the code (run `npm run schema:print` after schema changes)', () => {
    const checkedIn = readFileSync(new URL('../../graphql/schema.graphql', import.meta.url), 'utf8');
    expect(printedSchema()).toBe(checkedIn);
  });

  it('uses the contract names of the design (the API tour in README.md)', () => {
    const sdl = printedSchema();
    for (const name of [
      'hypervisors(refresh: Boolean): [Hypervisor!]!',
      'hypervisor(name: String!, refresh: Boolean)',
      'vlans: [Vlan!]!',
      'vlan(tag: Int!)',
      'jobs(after: String, filter: JobFilter, first: Int)',
      'registerHypervisor(',
      'refreshHypervisor(',
      'job(id: ID!)',
      'node(id: ID!)',
      'createBridge(input: CreateBridgeInput!)',
      'jobProgress(id: ID!)',
    ]) {
      expect(sdl).toContain(name);
    }
    for (const state of ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']) expect(sdl).toContain(state);
  });
});

describe('secrets stay out of answers', () => {
  it('no output type exposes a private key or its path', () => {
    const outputTypes = printedSchema()
      .split('\n\n')
      .filter((block) => /^(type|interface) /m.test(block));
    for (const block of outputTypes) expect(block).not.toMatch(/privateKey|passphrase/i);
  });
});

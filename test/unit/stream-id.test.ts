import { describe, expect, it } from 'vitest';
import { compareStreamIds } from '../../src/jobs/stream-id.ts';

describe('compareStreamIds', () => {
  it('orders numerically, not as strings', () => {
    expect(compareStreamIds('999-0', '1000-0')).toBe(-1);
    expect(compareStreamIds('1000-10', '1000-9')).toBe(1);
    expect(compareStreamIds('1700000000000-1', '1700000000000-1')).toBe(0);
    expect(compareStreamIds('0-0', '1-0')).toBe(-1);
  });
});

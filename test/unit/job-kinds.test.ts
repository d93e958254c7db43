import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS, isPlannedPerHost } from '../../src/changes/planners.ts';
import { HOST_STEPS, REFRESH_FLEET, runsPerHost } from '../../src/jobs/change-queue.ts';
import { takesTurns } from '../../src/jobs/host-order.ts';
import { CHANGE_JOB_KINDS, isJobKind, JOB_KINDS } from '../../src/jobs/job-kinds.ts';

describe('job kinds are a closed vocabulary', () => {
  it('CHANGE_KINDS plans exactly the change job kinds; verifyVlan and refreshHypervisor run as submitted', () => {
    expect(Object.keys(CHANGE_KINDS).sort()).toEqual([...CHANGE_JOB_KINDS].sort());
    expect(JOB_KINDS.filter((k) => !isPlannedPerHost(k))).toEqual(['verifyVlan', 'refreshHypervisor']);
  });

  it('kinds are unique and never collide with the internal BullMQ job names', () => {
    expect(new Set(JOB_KINDS).size).toBe(JOB_KINDS.length);
    expect(isJobKind(HOST_STEPS)).toBe(false);
    expect(isJobKind(REFRESH_FLEET)).toBe(false);
    expect(isJobKind('toString')).toBe(false);
  });

  it('what runs per host and what takes turns, by kind', () => {
    expect(JOB_KINDS.filter((k) => !runsPerHost(k))).toEqual(['verifyVlan', 'refreshHypervisor']);
    expect(JOB_KINDS.filter((k) => !takesTurns(k))).toEqual(['refreshHypervisor']);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type EventLine,
  eventFilterInput,
  jobFilterInput,
  jobView,
  listRow,
  matches,
  mayCancel,
  mergeEvents,
  mergeJob,
  replaceList,
} from '../../ui/src/jobs-model.ts';
import { EMPTY_JOBS_FILTER } from '../../ui/src/router.ts';
import type { JobDetail, JobRow, JobsPage } from '../../ui/src/types.ts';

/**
 * The jobs pages' view models with real answers (captured from the lab by test/e2e/ui.test.ts):
 * the jobs list, an ensureVlan of 1891 on both hosts and a failed verifyVlan, each as the UI's
 * job query answers it (with its event log).
 */
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/ui/${name}.json`, import.meta.url), 'utf8'));
const list = fixture<JobsPage>('jobs').jobs.nodes;
const ensure = fixture<{ job: JobDetail & { events: EventLine[] } }>('job-ensure-vlan').job;
const failed = fixture<{ job: JobDetail & { events: EventLine[] } }>('job-verify-vlan-failed').job;
const NOW = Date.parse(ensure.finishedAt!) + 60_000;

const running = (j: JobRow, createdAt = j.createdAt): JobRow => ({ ...j, state: 'RUNNING', finishedAt: null, createdAt });

describe('the jobs list', () => {
  it('turns filters into the query’s JobFilter and the stream’s JobEventFilter (which has no state)', () => {
    const f = { state: 'FAILED', kind: 'ensureVlan', host: 'hv1', ticket: 'UI-1891' } as const;
    expect(jobFilterInput(f)).toEqual({ state: 'FAILED', kind: 'ensureVlan', hypervisor: 'hv1', ticketRef: 'UI-1891' });
    expect(eventFilterInput(f)).toEqual({ kind: 'ensureVlan', hypervisor: 'hv1', ticketRef: 'UI-1891' });
    expect(jobFilterInput(EMPTY_JOBS_FILTER)).toEqual({});
  });

  it('matches jobs as the gateway’s filter does', () => {
    const job = list.find((j) => j.kind === 'ensureVlan')!;
    expect(matches(job, EMPTY_JOBS_FILTER)).toBe(true);
    expect(matches(job, { ...EMPTY_JOBS_FILTER, host: 'hv2', ticket: 'UI-1891', state: 'SUCCEEDED' })).toBe(true);
    expect(matches(job, { ...EMPTY_JOBS_FILTER, kind: 'verifyVlan' })).toBe(false);
    expect(matches(job, { ...EMPTY_JOBS_FILTER, host: 'hv3' })).toBe(false);
  });

  it('takes a new job from an event at the top, replaces a known one, and drops one that stops matching', () => {
    const [newest, ...older] = list;
    expect(list.map((j) => j.kind)).toEqual(['ensureVlan', 'verifyVlan', 'refreshHypervisor']);
    const queued = { ...newest!, state: 'QUEUED' as const, startedAt: null, finishedAt: null };
    const withNew = mergeJob(older, queued, EMPTY_JOBS_FILTER);
    expect(withNew.map((j) => [j.kind, j.state])).toEqual([
      ['ensureVlan', 'QUEUED'],
      ['verifyVlan', 'SUCCEEDED'],
      ['refreshHypervisor', 'SUCCEEDED'],
    ]);
    expect(mergeJob(withNew, newest!, EMPTY_JOBS_FILTER)[0]!.state).toBe('SUCCEEDED');
    const runningOnly = { ...EMPTY_JOBS_FILTER, state: 'RUNNING' as const };
    const shown = mergeJob([], running(newest!), runningOnly);
    expect(shown).toHaveLength(1);
    expect(mergeJob(shown, newest!, runningOnly)).toEqual([]);
    expect(mergeJob(older, newest!, EMPTY_JOBS_FILTER, 2).map((j) => j.kind)).toEqual(['ensureVlan', 'verifyVlan']);
  });

  it('never lets an older report of a job still running replace its end (a read racing with its last event)', () => {
    const done = list[0]!;
    expect(mergeJob([done], running(done), EMPTY_JOBS_FILTER)[0]!.state).toBe('SUCCEEDED');
    expect(replaceList([done], [running(done), list[1]!]).map((j) => j.state)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('keeps a job an event brought that a read answered just after could not know yet', () => {
    const [newest, ...older] = list;
    expect(replaceList([newest!, ...older], older).map((j) => j.kind)).toEqual(['ensureVlan', 'verifyVlan', 'refreshHypervisor']);
    // …but not an older job the read no longer lists (it stopped matching, or expired).
    expect(replaceList([newest!, older[0]!], [newest!]).map((j) => j.kind)).toEqual(['ensureVlan']);
  });

  it('shows a row per job: per-host states, progress, how long it took', () => {
    const r = listRow(list[0]!, NOW);
    expect(r).toMatchObject({
      kind: 'ensureVlan',
      state: 'SUCCEEDED',
      hosts: [
        { host: 'hv1', state: 'SUCCEEDED' },
        { host: 'hv2', state: 'SUCCEEDED' },
      ],
      ticketRef: 'UI-1891',
      requestedBy: 'test-admin',
      percent: 100,
      error: null,
    });
    expect(r.duration).toMatch(/^\d+ (ms|s)$/);
  });
});

describe('one job', () => {
  it('is per-host progress with each host’s steps in order, their commands and output excerpts', () => {
    const v = jobView(ensure, NOW);
    expect(v).toMatchObject({
      title: 'ensureVlan on hv1, hv2',
      state: 'SUCCEEDED',
      terminal: true,
      cancellable: false,
      percent: 100,
      error: null,
    });
    expect(v.progressText).toMatch(/^9\/9 steps · /);
    expect(v.hosts.map((h) => [h.host, h.state, h.done, h.total, h.percent])).toEqual([
      ['hv1', 'SUCCEEDED', 5, 5, 100],
      ['hv2', 'SUCCEEDED', 4, 4, 100],
    ]);
    for (const h of v.hosts) expect(h.steps.map((s) => s.index)).toEqual([...h.steps.map((s) => s.index)].sort((a, b) => a - b));
    const hv1 = v.hosts[0]!;
    expect(hv1.steps.map((s) => s.description)).toEqual([
      'ensure bridge ovsbr0 exists (datapath netdev)',
      'ensure uplink enp5s0f0 on ovsbr0 trunks VLAN 1891 (added to its trunks, others kept)',
      'ensure portgroup vlan-1891 tag=1891 in network ovs-network (live and persistent)',
      'ensure portgroup vlan-all trunk=1001,1002,1891 in network ovs-network (live and persistent)',
      expect.stringMatching(/^set VLANs of port vnet\d to tag=\[\] trunks=\[1001,1002,1891\]/),
    ]);
    const uplink = hv1.steps[1]!;
    expect(uplink).toMatchObject({ state: 'SUCCEEDED', changed: true, exitCode: 0 });
    expect(uplink.command).toMatch(/^ovs-vsctl .*enp5s0f0 trunks 1891$/);
    const portgroup = hv1.steps[2]!;
    expect(portgroup.stdout).toEqual({ text: 'Updated network ovs-network persistent config and live state', omittedLines: 0 });
    expect(portgroup.stderr).toBeNull();
    expect(v.rollback).toEqual([]);
    expect(v.verification).toBeNull();
  });

  it('a failed job says why, per host, with its verification', () => {
    const v = jobView(failed, NOW);
    expect(v.state).toBe('FAILED');
    expect(v.error).toMatch(/^VLAN_VERIFY_FAILED: hv1 .* no reply \(100% loss\)/);
    expect(v.verification).toMatchObject({ tag: 1899, ok: false });
    expect(v.hosts.map((h) => h.host)).toEqual(['hv1', 'hv2']);
  });

  it('keeps its event log in order, each event once when a resumed stream replays', () => {
    const log = mergeEvents([], ensure.events);
    expect(log.map((e) => e.type)[0]).toBe('QUEUED');
    expect(log.at(-1)?.type).toBe('SUCCEEDED');
    const again = mergeEvents(log, [...ensure.events.slice(-3)]);
    expect(again).toEqual(log);
    expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
  });
});

describe('who may cancel (as the gateway decides: src/requests/requester.ts)', () => {
  it('an admin any job, an operator its own, a viewer none; nobody signed in none', () => {
    const job = { requestedBy: ensure.requestedBy };
    expect(job.requestedBy).toBe('test-admin');
    expect(mayCancel({ name: 'someone', role: 'ADMIN' }, job)).toBe(true);
    expect(mayCancel({ name: 'test-admin', role: 'OPERATOR' }, job)).toBe(true);
    expect(mayCancel({ name: 'ci-bot', role: 'OPERATOR' }, job)).toBe(false);
    expect(mayCancel({ name: 'test-admin', role: 'VIEWER' }, job)).toBe(false);
    expect(mayCancel(null, job)).toBe(false);
  });
});

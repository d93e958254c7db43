/**
 * The history check, run after the faults stopped: pure functions over what the runner
 * recorded (submissions, the job records and event streams read through the API, what the
 * subscribers received, each host's OVSDB log and state read on the host, the cache after a
 * refresh). Each returns figures and a list of violations (empty = the guarantee held).
 */
import type { JobRecord } from './api.ts';
import { libvirtCommandFits, libvirtStepKey } from './libvirt-log.ts';
import { stepCommandKey, trunklineCommand, type OvsdbRecord } from './ovs-log.ts';
import type { ReceivedEvent } from './subscribers.ts';
import type { Submission } from './workload.ts';

export interface StreamEvent {
  id: string;
  type: string;
  hypervisor: string | null;
  at: string;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

// ---------------------------------------------------------------------------------------------
// Jobs: terminal, lost, idempotency
// ---------------------------------------------------------------------------------------------
export interface JobsCheck {
  jobs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  refused: number;
  lost: string[];
  stuck: string[];
  unresolved: number[];
  duplicateKeys: number;
  duplicateJobs: string[];
  failedCodes: Record<string, number>;
  violations: string[];
}

export function checkJobs(subs: Submission[], records: Map<string, JobRecord | null>): JobsCheck {
  const c: JobsCheck = {
    jobs: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    refused: 0,
    lost: [],
    stuck: [],
    unresolved: [],
    duplicateKeys: 0,
    duplicateJobs: [],
    failedCodes: {},
    violations: [],
  };
  const byJob = new Map<string, number[]>();
  for (const s of subs) {
    if (s.spec.duplicate) c.duplicateKeys++;
    if (s.conflictingIds.length) {
      c.duplicateJobs.push(`key ${s.spec.key}: jobs ${[s.jobId, ...s.conflictingIds].join(', ')}`);
    }
    if (!s.jobId) {
      if (s.refused) c.refused++;
      else c.unresolved.push(s.spec.seq);
      continue;
    }
    byJob.set(s.jobId, [...(byJob.get(s.jobId) ?? []), s.spec.seq]);
  }
  for (const [id, seqs] of byJob) {
    if (seqs.length > 1) c.duplicateJobs.push(`job ${id} answered for different keys (requests ${seqs.join(', ')})`);
    c.jobs++;
    const r = records.get(id);
    if (!r) {
      c.lost.push(id);
      continue;
    }
    if (!TERMINAL.has(r.state))
      c.stuck.push(`${id} (${r.kind}, ${r.state}, hosts ${r.hosts.map((h) => `${h.hypervisor}:${h.state}`).join(' ')})`);
    else if (r.state === 'SUCCEEDED') c.succeeded++;
    else if (r.state === 'FAILED') {
      c.failed++;
      const code = r.error?.code ?? 'none';
      c.failedCodes[code] = (c.failedCodes[code] ?? 0) + 1;
    } else c.cancelled++;
  }
  for (const id of c.lost) c.violations.push(`lost: job ${id} was accepted but has no record`);
  for (const s of c.stuck) c.violations.push(`stuck: ${s}`);
  for (const seq of c.unresolved) c.violations.push(`unresolved: request ${seq} never got a job or a refusal`);
  for (const d of c.duplicateJobs) c.violations.push(`idempotency: ${d}`);
  return c;
}

// ---------------------------------------------------------------------------------------------
// No change applied twice: Trunkline's OVSDB transactions against the job records
// ---------------------------------------------------------------------------------------------
export interface ChangeCheck {
  /** Trunkline transactions on the hosts during the run. */
  transactions: number;
  /** Steps recorded changed (OVS) + successful rollbacks (OVS). */
  recordedChanges: number;
  /** Transactions no recorded change accounts for, but within the job's attempt (an attempt that died after its change). */
  unrecordedInAttempt: number;
  duplicated: string[];
  /** Transactions outside every job's window on the host, or of a command the job whose window it is in never planned. */
  foreign: string[];
  /**
   * Transactions of a job's command in its window, but at a time none of its attempts could have
   * made them: not while a step that recorded the change (or may have made it: failed, timed out)
   * ran, nor within an attempt that ended early (TAKEN_OVER / LOCK_LOST: it may have changed the
   * host before it died). What a stalled worker that woke after its attempt was taken over leaves.
   */
  outsideAttempts: string[];
  /** Changes of an attempt that was taken over whose step the next attempt planned away (counted in unrecordedInAttempt). */
  replannedAway: string[];
  /** Commits of a timed-out step's command that landed after its job ended (the host came back; counted as the job's). */
  lateCommits: string[];
  /** Recorded changes that left no transaction (a record that claims a change nobody made). */
  phantom: string[];
  compacted: string[];
  violations: string[];
}

export interface HostLog {
  host: string;
  /** Records before the run (baseline). */
  before: OvsdbRecord[];
  after: OvsdbRecord[];
}

interface Window {
  jobId: string;
  from: number;
  to: number;
}

/** A job's time on a host: from its first HOST_STARTED there to its last event there (or the job's end). */
export function hostWindows(jobId: string, stream: StreamEvent[], host: string, slackMs = 250): Window | null {
  const onHost = stream.filter((e) => e.hypervisor === host);
  const start = onHost.find((e) => e.type === 'HOST_STARTED');
  if (!start) return null;
  const terminal = stream.find((e) => TERMINAL.has(e.type));
  const last = terminal ?? onHost.at(-1)!;
  return { jobId, from: Date.parse(start.at) - slackMs, to: Date.parse(last.at) + slackMs };
}

/** Whether an OVS command is one a job of this kind and input may run on a host (it names the job's port or VLAN). */
export function commandFits(kind: string, input: Record<string, any>, cmd: string): boolean {
  const words = cmd.split(' ');
  switch (kind) {
    case 'addPort':
    case 'setPortVlans':
    case 'removePort':
      return words.includes(String(input.name));
    case 'ensureVlan':
    case 'removeVlan':
      return words.includes('enp5s0f0') && words.some((w) => w === String(input.tag) || w.split(',').includes(String(input.tag)));
    default:
      return false;
  }
}

/** How long an ovs-vsctl command may live on the host: its --timeout=N (+1 s), else 15 s. */
function commandLifetimeMs(cmd: string): number {
  const m = /--timeout=(\d+)/.exec(cmd);
  return m ? (Number(m[1]) + 1) * 1000 : 15_000;
}

/**
 * Where a host's changes are logged and how a log entry and a step's command name the same
 * change: the OVSDB log's transactions (ovs-vsctl writes its argv as the comment) or libvirtd's
 * API log (libvirt-log.ts).
 */
export interface ChangeSource {
  /** What a log entry is called in messages. */
  label: string;
  /** The key of an entry Trunkline made; null for others. */
  txnKey(r: OvsdbRecord): string | null;
  /** The key of the change a step's or rollback's command makes; null when it makes none here. */
  stepKey(command: string | null | undefined): string | null;
  /** Whether a job of this kind and input may make the change (a taken-over attempt's, planned away). */
  fits(kind: string, input: Record<string, any>, key: string): boolean;
  /** How long a command given up on may still make its change on the host. */
  lifetimeMs(key: string): number;
}

export const OVS_CHANGES: ChangeSource = {
  label: 'record',
  txnKey: trunklineCommand,
  stepKey: stepCommandKey,
  fits: commandFits,
  lifetimeMs: commandLifetimeMs,
};

export const LIBVIRT_CHANGES: ChangeSource = {
  label: 'libvirt API call at line',
  txnKey: (r) => r.comment,
  stepKey: libvirtStepKey,
  fits: libvirtCommandFits,
  // virsh has no timeout of its own: a call sent before the host froze ends when it thaws.
  lifetimeMs: () => 15_000,
};

/** A step of `cmd` on `host` that timed out (FAILED, no exit code) and whose command may still have been alive at `at`. */
export function lateCommitOf(
  records: Map<string, JobRecord | null>,
  host: string,
  cmd: string,
  at: number,
  source: ChangeSource = OVS_CHANGES,
): { jobId: string; startedAt: string; finishedAt: string | null } | null {
  for (const [id, rec] of records) {
    if (!rec) continue;
    for (const st of rec.steps) {
      if (st.host !== host || st.state !== 'FAILED' || st.exitCode !== null || !st.startedAt) continue;
      if (source.stepKey(st.command) !== cmd) continue;
      const start = Date.parse(st.startedAt);
      if (at >= start - SLACK_MS && at <= start + source.lifetimeMs(cmd))
        return { jobId: id, startedAt: st.startedAt, finishedAt: st.finishedAt };
    }
  }
  return null;
}

/** `at` lies within an attempt of the part that ended early (TAKEN_OVER / LOCK_LOST) or never ended. */
function inEarlyAttempt(rec: JobRecord, host: string, at: number, windowEnd: number): boolean {
  const list = rec.hosts.find((h) => h.hypervisor === host)?.attemptList ?? [];
  return list.some(
    (a) =>
      (EARLY_END.has(a.outcome) || a.outcome === 'RUNNING') &&
      !!a.startedAt &&
      at >= Date.parse(a.startedAt) - SLACK_MS &&
      at <= (a.endedAt ? Date.parse(a.endedAt) : windowEnd) + SLACK_MS,
  );
}

export function checkChanges(
  logs: HostLog[],
  records: Map<string, JobRecord | null>,
  streams: Map<string, StreamEvent[]>,
  /** What each job asked for (kind, input): lets a change of a taken-over attempt whose step was planned away count as its job's. */
  inputs?: Map<string, { kind: string; input: Record<string, any> }>,
  source: ChangeSource = OVS_CHANGES,
): ChangeCheck {
  const c: ChangeCheck = {
    transactions: 0,
    recordedChanges: 0,
    unrecordedInAttempt: 0,
    duplicated: [],
    foreign: [],
    outsideAttempts: [],
    replannedAway: [],
    lateCommits: [],
    phantom: [],
    compacted: [],
    violations: [],
  };
  for (const log of logs) {
    const prefixOk = log.before.every((r, i) => log.after[i] && log.after[i]!.at === r.at && log.after[i]!.comment === r.comment);
    if (!prefixOk || log.after.length < log.before.length) {
      c.compacted.push(
        `${log.host}: the OVSDB log does not start with the records seen before the run (compacted?): transactions not counted`,
      );
      continue;
    }
    const txns = log.after.slice(log.before.length).flatMap((r) => {
      const cmd = source.txnKey(r);
      return cmd ? [{ r, cmd }] : [];
    });
    c.transactions += txns.length;
    const windows: Window[] = [];
    for (const [id, rec] of records) {
      if (!rec?.hypervisors.includes(log.host)) continue;
      const w = hostWindows(id, streams.get(id) ?? [], log.host);
      if (w) windows.push(w);
    }
    // per job: command -> [commits, recorded]
    const counts = new Map<string, Map<string, { commits: number[]; recorded: number; planned: boolean }>>();
    const slot = (jobId: string, cmd: string) => {
      let m = counts.get(jobId);
      if (!m) counts.set(jobId, (m = new Map()));
      let s = m.get(cmd);
      if (!s) m.set(cmd, (s = { commits: [], recorded: 0, planned: false }));
      return s;
    };
    for (const [id, rec] of records) {
      if (!rec) continue;
      for (const st of rec.steps) {
        const k = st.host === log.host ? source.stepKey(st.command) : null;
        if (!k) continue;
        const s = slot(id, k);
        s.planned = true;
        if (st.changed === true) s.recorded++;
      }
      for (const rb of rec.rollback) {
        const k = rb.host === log.host ? source.stepKey(rb.command) : null;
        if (!k) continue;
        const s = slot(id, k);
        s.planned = true;
        if (rb.state === 'SUCCEEDED') s.recorded++;
      }
    }
    for (const { r, cmd } of txns) {
      const inWindow = windows.filter((w) => r.at >= w.from && r.at <= w.to);
      const planners = inWindow.filter((w) => counts.get(w.jobId)?.get(cmd)?.planned);
      const during = (w: Window) => {
        const spans = madeBy(records.get(w.jobId)!, log.host, cmd, w.to, source);
        return spans === null || spans.some(([a, b]) => r.at >= a - SLACK_MS && r.at <= b + SLACK_MS);
      };
      // Windows overlap a little (slack, a multi-host job's end): the job that could have made it at that moment owns it.
      const owner = planners.find(during) ?? planners[0];
      if (!owner) {
        // An attempt that was taken over may have changed the host with a step the next attempt,
        // planning again from the host, no longer has (it found the change made): its job's
        // record no longer lists it. Accepted within that attempt's time, if the job asks for it.
        const earlier = inWindow.find((w) => {
          const spec = inputs?.get(w.jobId);
          const rec = records.get(w.jobId);
          return !!spec && !!rec && source.fits(spec.kind, spec.input, cmd) && inEarlyAttempt(rec, log.host, r.at, w.to);
        });
        // A command that timed out (the host froze, its link went down) may still commit when the
        // host comes back, after its job ended: ovs-vsctl gives up only after its own --timeout.
        const late = lateCommitOf(records, log.host, cmd, r.at, source);
        if (late) {
          slot(late.jobId, cmd).commits.push(r.index);
          c.lateCommits.push(
            `${log.host} ${source.label} ${r.index} at ${new Date(r.at).toISOString()}: "${cmd}" of job ${late.jobId}, whose step timed out at ${late.finishedAt} (started ${late.startedAt}): committed when the host came back, after the job ended`,
          );
          continue;
        }
        if (earlier) {
          c.unrecordedInAttempt++;
          c.replannedAway.push(
            `${log.host} ${source.label} ${r.index} at ${new Date(r.at).toISOString()}: "${cmd}" by an attempt of job ${earlier.jobId} that was taken over; its steps are gone from the record (attempts: ${describeAttempts(records.get(earlier.jobId)!, log.host)})`,
          );
          continue;
        }
        c.foreign.push(
          `${log.host} ${source.label} ${r.index} at ${new Date(r.at).toISOString()}: "${cmd}" — ${inWindow.length ? `in the window of job(s) ${inWindow.map((w) => w.jobId).join(', ')}, none of which planned it` : 'outside every job window on this host'}`,
        );
        continue;
      }
      slot(owner.jobId, cmd).commits.push(r.index);
      const rec = records.get(owner.jobId)!;
      if (!during(owner)) {
        const within = rec.hosts
          .find((h) => h.hypervisor === log.host)
          ?.attemptList.find((a) => a.startedAt && r.at >= Date.parse(a.startedAt) && (!a.endedAt || r.at <= Date.parse(a.endedAt)));
        c.outsideAttempts.push(
          `${log.host} ${source.label} ${r.index} at ${new Date(r.at).toISOString()}: "${cmd}" of job ${owner.jobId}, made while no step of the job recorded it and no attempt that ended early ran (attempts: ${describeAttempts(rec, log.host)})${within ? `; it lies within attempt #${within.number}, which ended ${within.outcome}: if its worker died or was stalled and another closed the attempt, the attempt should say TAKEN_OVER` : ''}`,
        );
      }
    }
    for (const [jobId, m] of counts)
      for (const [cmd, s] of m) {
        c.recordedChanges += s.recorded;
        const n = s.commits.length;
        if (n > Math.max(s.recorded, 1))
          c.duplicated.push(
            `${log.host} job ${jobId}: "${cmd}" committed ${n} times (records ${s.commits.join(', ')}), recorded as changed ${s.recorded} time(s)`,
          );
        else if (n > s.recorded) c.unrecordedInAttempt += n - s.recorded;
        if (n < s.recorded) c.phantom.push(`${log.host} job ${jobId}: "${cmd}" recorded changed ${s.recorded} time(s), committed ${n}`);
      }
  }
  for (const d of c.duplicated) c.violations.push(`duplicated change: ${d}`);
  for (const f of c.foreign) c.violations.push(`change outside its job: ${f}`);
  for (const f of c.outsideAttempts) c.violations.push(`change outside its job's turn: ${f}`);
  for (const p of c.phantom) c.violations.push(`recorded change with no transaction: ${p}`);
  for (const x of c.compacted) c.violations.push(x);
  return c;
}

const SLACK_MS = 250;
const EARLY_END = new Set(['TAKEN_OVER', 'LOCK_LOST']);

function describeAttempts(rec: JobRecord, host: string): string {
  const part = rec.hosts.find((h) => h.hypervisor === host);
  return (
    (part?.attemptList ?? [])
      .map((a) => `#${a.number} ${a.worker ?? '?'} ${a.outcome} ${a.startedAt ?? '?'}..${a.endedAt ?? 'open'}`)
      .join('; ') || 'none listed'
  );
}

/**
 * The times at which job `rec` may have committed `cmd` on `host` (ms pairs): while a step with
 * that command ran that recorded a change or may have made one (FAILED: its command may have
 * gone through; a timed-out one until the job's end, `windowEnd`), while an attempt ran that
 * ended early (its change may be unrecorded), and, for a rollback command, the whole part.
 * null: the record has no attempt list (an older product): not checked.
 */
export function madeBy(
  rec: JobRecord,
  host: string,
  cmd: string,
  windowEnd: number,
  source: ChangeSource = OVS_CHANGES,
): Array<[number, number]> | null {
  const part = rec.hosts.find((h) => h.hypervisor === host);
  const attempts = part?.attemptList ?? [];
  if (!attempts.length || attempts.some((a) => !a.startedAt)) return null;
  const spans: Array<[number, number]> = [];
  for (const st of rec.steps) {
    if (st.host !== host || source.stepKey(st.command) !== cmd || !st.startedAt) continue;
    if (st.changed === true) spans.push([Date.parse(st.startedAt), st.finishedAt ? Date.parse(st.finishedAt) : windowEnd]);
    else if (st.state === 'FAILED' || st.state === 'RUNNING') {
      const start = Date.parse(st.startedAt);
      spans.push([
        start,
        st.exitCode === null || !st.finishedAt ? Math.max(windowEnd, start + source.lifetimeMs(cmd)) : Date.parse(st.finishedAt),
      ]);
    }
  }
  if (rec.rollback.some((rb) => rb.host === host && source.stepKey(rb.command) === cmd))
    spans.push([Date.parse(attempts[0]!.startedAt!), windowEnd]);
  for (const a of attempts)
    if (EARLY_END.has(a.outcome) || a.outcome === 'RUNNING')
      spans.push([Date.parse(a.startedAt!), a.endedAt ? Date.parse(a.endedAt) : windowEnd]);
  return spans;
}

// ---------------------------------------------------------------------------------------------
// Attempts: a part taken over lists every attempt, each earlier one ended and saying why
// ---------------------------------------------------------------------------------------------
export interface AttemptsCheck {
  /** Parts (job × host) with more than one attempt. */
  partsTakenOver: number;
  /** Attempts that ended TAKEN_OVER / LOCK_LOST. */
  takenOver: number;
  lockLost: number;
  /** Parts whose attempts list was checked. */
  parts: number;
  violations: string[];
}

export function checkAttempts(records: Map<string, JobRecord | null>): AttemptsCheck {
  const c: AttemptsCheck = { partsTakenOver: 0, takenOver: 0, lockLost: 0, parts: 0, violations: [] };
  for (const [id, rec] of records) {
    if (!rec) continue;
    for (const part of rec.hosts) {
      const list = part.attemptList ?? [];
      if (!list.length) {
        if (part.attempts > 0)
          c.violations.push(`attempts: job ${id} ${part.hypervisor}: ${part.attempts} attempt(s) counted, none listed`);
        continue;
      }
      c.parts++;
      const where = `attempts: job ${id} ${part.hypervisor} (${part.state}; ${describeAttempts(rec, part.hypervisor)})`;
      if (list.length > 1) c.partsTakenOver++;
      if (list.some((a, i) => a.number !== i + 1)) c.violations.push(`${where}: not numbered 1..${list.length} in order`);
      if (part.attempts !== list.length) c.violations.push(`${where}: the count says ${part.attempts}`);
      for (const [i, a] of list.entries()) {
        if (a.outcome === 'TAKEN_OVER') c.takenOver++;
        if (a.outcome === 'LOCK_LOST') c.lockLost++;
        const last = i === list.length - 1;
        if (!last) {
          if (!EARLY_END.has(a.outcome)) c.violations.push(`${where}: attempt ${a.number} is not the last but ended ${a.outcome}`);
          if (!a.endedAt) c.violations.push(`${where}: attempt ${a.number} is not the last but never ended`);
          if (!a.reason?.trim()) c.violations.push(`${where}: attempt ${a.number} ended ${a.outcome} without a reason`);
          const next = list[i + 1]!;
          if (a.endedAt && next.startedAt && Date.parse(next.startedAt) < Date.parse(a.endedAt) - SLACK_MS)
            c.violations.push(`${where}: attempt ${next.number} started before attempt ${a.number} ended`);
        } else if (TERMINAL.has(part.state)) {
          // The last attempt carries the part's outcome (a part that ended).
          if (!a.endedAt) c.violations.push(`${where}: the last attempt never ended (${a.outcome}), the part did (${part.state})`);
          else if (a.outcome !== part.state) c.violations.push(`${where}: the last attempt ended ${a.outcome}, the part ${part.state}`);
        }
      }
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Hosts converge to what the last successful jobs asked for
// ---------------------------------------------------------------------------------------------
/** Objects the workload touches, by key: port:NAME, pg:NAME, uplink:TAG. Values: "absent", "tag=5", "trunks=11,12", "tags=11", "yes", "no". */
export type HostModel = Map<string, string>;

export function portValue(p: { tag: number | null; trunks: number[] } | undefined): string {
  if (!p) return 'absent';
  if (p.tag !== null) return `tag=${p.tag}${p.trunks.length ? ` trunks=${p.trunks.join(',')}` : ''}`;
  return `trunks=${p.trunks.join(',')}`;
}

/** What one job asks for on one host: object key → wanted value. */
export function wantedBy(kind: string, input: Record<string, any>, host: string): Map<string, string> {
  const w = new Map<string, string>();
  const vlans = () => portValue({ tag: input.tag ?? null, trunks: [...(input.trunks ?? [])].sort((a: number, b: number) => a - b) });
  switch (kind) {
    case 'addPort':
    case 'setPortVlans':
      if (input.hypervisor === host) w.set(`port:${input.name}`, vlans());
      break;
    case 'removePort':
      if (input.hypervisor === host) w.set(`port:${input.name}`, 'absent');
      break;
    case 'addPortgroup':
      if (input.hypervisor === host)
        w.set(`pg:${input.portgroup.name}`, `tags=${[...input.portgroup.vlanTags].sort((a: number, b: number) => a - b).join(',')}`);
      break;
    case 'removePortgroup':
      if (input.hypervisor === host) w.set(`pg:${input.name}`, 'absent');
      break;
    case 'ensureVlan':
    case 'removeVlan': {
      if (!(input.hypervisors as string[]).includes(host)) break;
      const pg = `pg:vlan-${String(input.tag).padStart(4, '0')}`;
      const on = kind === 'ensureVlan';
      w.set(pg, on ? `tags=${input.tag}` : 'absent');
      w.set(`uplink:${input.tag}`, on ? 'yes' : 'no');
      break;
    }
  }
  return w;
}

/** How a job's part on a host ended, for the model: applied, not applied, or either. */
export function effectOn(rec: JobRecord, host: string): 'applied' | 'none' | 'uncertain' {
  const part = rec.hosts.find((h) => h.hypervisor === host);
  if (!part) return 'none';
  const steps = rec.steps.filter((s) => s.host === host);
  if (part.state === 'SUCCEEDED') return 'applied';
  if (part.state === 'PENDING') return steps.some((s) => s.state !== 'PENDING' && s.state !== 'SKIPPED') ? 'uncertain' : 'none';
  if (part.state === 'FAILED') {
    const touched = steps.some((s) => s.changed === true || (s.state === 'FAILED' && s.command));
    const rolledBack = rec.rollback.filter((r) => r.host === host);
    if (!touched) return 'none';
    if (
      rolledBack.length &&
      rolledBack.every((r) => r.state === 'SUCCEEDED') &&
      !steps.some((s) => s.state === 'FAILED' && s.exitCode === null)
    )
      return 'none';
    return 'uncertain';
  }
  // CANCELLED (or anything else): applied steps stay.
  if (steps.every((s) => s.state === 'PENDING' || s.state === 'SKIPPED')) return 'none';
  return 'uncertain';
}

export interface ConvergenceCheck {
  hosts: number;
  converged: number;
  objects: number;
  /** Objects whose expected value is one of several (an uncertain job touched them last). */
  ambiguous: number;
  violations: string[];
}

/**
 * `order`: per host, the jobs in the order they ran there (by their first HOST_STARTED on it).
 * `initial`, `actual`: object values read on the host before and after the run.
 */
export function checkConvergence(
  hosts: string[],
  initial: Map<string, HostModel>,
  actual: Map<string, HostModel>,
  order: Map<string, JobRecord[]>,
  inputs: Map<string, { kind: string; input: Record<string, any> }>,
): ConvergenceCheck {
  const c: ConvergenceCheck = { hosts: hosts.length, converged: 0, objects: 0, ambiguous: 0, violations: [] };
  for (const host of hosts) {
    const expected = new Map<string, Set<string>>();
    for (const [k, v] of initial.get(host) ?? []) expected.set(k, new Set([v]));
    const why = new Map<string, string>();
    for (const rec of order.get(host) ?? []) {
      const spec = inputs.get(rec.id);
      if (!spec) continue;
      const effect = effectOn(rec, host);
      if (effect === 'none') continue;
      for (const [k, v] of wantedBy(spec.kind, spec.input, host)) {
        const cur = expected.get(k) ?? new Set(['absent']);
        expected.set(k, effect === 'applied' ? new Set([v]) : new Set([...cur, v]));
        why.set(k, `${rec.kind} ${rec.id} (${rec.hosts.find((h) => h.hypervisor === host)?.state}, ${effect})`);
      }
    }
    const act = actual.get(host) ?? new Map();
    let ok = true;
    for (const [k, vals] of expected) {
      c.objects++;
      if (vals.size > 1) c.ambiguous++;
      const a = act.get(k) ?? 'absent';
      if (!vals.has(a)) {
        ok = false;
        c.violations.push(`${host} ${k}: is ${a} on the host, expected ${[...vals].join(' or ')} (last: ${why.get(k) ?? 'initial state'})`);
      }
    }
    if (ok) c.converged++;
  }
  return c;
}

/** The cache (after one refresh) against the host, object by object. */
export function checkCacheAgrees(hosts: string[], actual: Map<string, HostModel>, cache: Map<string, HostModel>): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const a = actual.get(h) ?? new Map();
    const c = cache.get(h) ?? new Map();
    for (const k of new Set([...a.keys(), ...c.keys()])) {
      const av = a.get(k) ?? 'absent';
      const cv = c.get(k) ?? 'absent';
      if (av !== cv) out.push(`cache of ${h} ${k}: ${cv}, host: ${av}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Events a client received are in the job's stream, in order, without gaps
// ---------------------------------------------------------------------------------------------
export interface EventsCheck {
  sseFollows: number;
  sseEvents: number;
  wsEvents: number;
  wsJobs: number;
  violations: string[];
}

/**
 * Events a WebSocket client received with `job: null` (jobId '?': the gateway resolves `job` with
 * a Redis read, which fails while Redis does not answer) are put back in their job when exactly
 * one job stream has an event of that id and type. Returns how many came without their job.
 */
export function attributeJoblessEvents(events: ReceivedEvent[], streams: Map<string, StreamEvent[]>): number {
  const owners = new Map<string, string[]>();
  for (const [id, s] of streams)
    for (const e of s) {
      const k = `${e.id} ${e.type}`;
      owners.set(k, [...(owners.get(k) ?? []), id]);
    }
  let n = 0;
  for (const e of events) {
    if (e.jobId !== '?') continue;
    n++;
    const o = owners.get(`${e.id} ${e.type}`) ?? [];
    if (o.length === 1) e.jobId = o[0]!;
  }
  return n;
}

/** `whole`: the client should have the stream from its first event (it started before the job). */
export function checkReceived(label: string, received: ReceivedEvent[], stream: StreamEvent[], whole: boolean, toEnd: boolean): string[] {
  const out: string[] = [];
  const ids = stream.map((e) => e.id);
  const idx = received.map((r) => ids.indexOf(r.id));
  const missing = received.filter((_, i) => idx[i] === -1);
  if (missing.length)
    out.push(
      `${label}: received ${missing.length} event(s) not in the job's stream: ${missing
        .map((m) => `${m.id} ${m.type}`)
        .slice(0, 5)
        .join(', ')}`,
    );
  for (let i = 1; i < idx.length; i++) {
    if (idx[i] === -1 || idx[i - 1] === -1) continue;
    if (idx[i]! <= idx[i - 1]!) {
      out.push(`${label}: event ${received[i]!.id} (${received[i]!.type}) came after ${received[i - 1]!.id}: out of order or twice`);
      break;
    }
    if (idx[i]! !== idx[i - 1]! + 1) {
      out.push(
        `${label}: gap between ${received[i - 1]!.id} and ${received[i]!.id}: ${idx[i]! - idx[i - 1]! - 1} event(s) of the stream not received (${stream
          .slice(idx[i - 1]! + 1, idx[i]!)
          .map((e) => e.type)
          .join(', ')})`,
      );
      break;
    }
  }
  const found = idx.filter((i) => i >= 0);
  if (whole && stream.length && (found.length === 0 || found[0] !== 0))
    out.push(
      `${label}: the first ${found.length ? found[0] : stream.length} event(s) of the stream were not received (${stream
        .slice(0, found[0] ?? stream.length)
        .map((e) => e.type)
        .join(', ')})`,
    );
  const end = stream.findIndex((e) => TERMINAL.has(e.type));
  if (toEnd && end >= 0 && end < stream.length - 1 && found.at(-1) === end)
    // Streams end with the job's end (the client's and the gateway's): the job's events go on past it.
    out.push(
      `${label}: the job's stream goes on after its terminal event ${stream[end]!.id} (${stream[end]!.type}): ${stream
        .slice(end + 1)
        .map((e) => `${e.id} ${e.type}`)
        .join(', ')} written after the job ended`,
    );
  else if (toEnd && stream.length && (found.length === 0 || found.at(-1) !== stream.length - 1))
    out.push(
      `${label}: the last ${stream.length - 1 - (found.at(-1) ?? -1)} event(s) of the stream were not received (${stream
        .slice((found.at(-1) ?? -1) + 1)
        .map((e) => e.type)
        .join(', ')})`,
    );
  return out;
}

import { describe, expect, it } from 'vitest';
import { JobEventSchema } from '../../rest/schemas/job.ts';
import type { JobEvent } from '../../src/jobs/job-types.ts';
import { eventData, jobOfPayload, webhookPayload } from '../../src/webhooks/payload.ts';

const step = {
  index: 0,
  host: 'hv1',
  description: 'bridge br0 exists',
  command: 'ovs-vsctl --may-exist add-br br0',
  probeCommand: 'ovs-vsctl br-exists br0',
  wanted: 'exists',
  observed: 'missing',
  state: 'SUCCEEDED' as const,
  changed: true,
  exitCode: 0,
  stdout: '',
  stderr: '',
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:00:00.120Z',
  durationMs: 120,
  warning: null,
};
const events: JobEvent[] = [
  {
    id: '1764583200000-0',
    sequence: '1764583200000-3',
    jobId: '7b0d0f0e-5b5c-4a43-8d7f-2f9d7c2f0a11',
    kind: 'createBridge',
    ticketRef: 'NET-42',
    type: 'STEP_FINISHED',
    at: '2026-12-01T10:00:00.120Z',
    state: 'RUNNING',
    host: 'hv1',
    step,
    progress: { done: 1, total: 1, message: 'bridge br0 exists' },
    message: 'bridge br0 exists',
    error: null,
  },
  {
    id: '1764583200001-0',
    sequence: '1764583200001-0',
    jobId: '7b0d0f0e-5b5c-4a43-8d7f-2f9d7c2f0a11',
    kind: 'createBridge',
    ticketRef: null,
    type: 'FAILED',
    at: '2026-12-01T10:00:01.000Z',
    state: 'FAILED',
    host: null,
    step: null,
    progress: { done: 0, total: 0, message: 'failed' },
    message: 'failed',
    error: { code: 'COMMAND_FAILED', message: 'hv1: exit 1', step: 0 },
  },
];

describe('webhook payloads', () => {
  it.each(events.map((e) => [e.type, e] as const))("%s: data is a JobEvent as openapi.yaml describes it (REST's schema)", (_type, e) => {
    const parsed = JobEventSchema.safeParse(eventData(e));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('type, timestamp, data (Standard Webhooks payload structure)', () => {
    const p = webhookPayload(events[0]!);
    expect(Object.keys(p)).toEqual(['type', 'timestamp', 'data']);
    expect(p.type).toBe('job.step_finished');
    expect(p.timestamp).toBe('2026-12-01T10:00:00.120Z');
    expect(p.data).toMatchObject({ sequence: '1764583200000-3', hypervisor: 'hv1', ticketRef: 'NET-42', progress: { percent: 100 } });
    expect(webhookPayload(events[1]!).type).toBe('job.failed');
  });

  it('jobOfPayload: the job, host and ticket a delivery is about (its log lines); nothing from a body that is not a payload', () => {
    expect(jobOfPayload(JSON.stringify(webhookPayload(events[0]!)))).toEqual({
      jobId: '7b0d0f0e-5b5c-4a43-8d7f-2f9d7c2f0a11',
      host: 'hv1',
      ticketRef: 'NET-42',
    });
    expect(jobOfPayload('not json')).toEqual({ jobId: null, host: null, ticketRef: null });
  });
});

import { describe, expect, it } from 'vitest';
import { JOB_EVENT_TYPES } from '../../src/jobs/job-types.ts';
import { jobEventTypeOf, WEBHOOK_EVENT_TYPES, webhookEventType } from '../../src/webhooks/event-types.ts';
import { EMPTY_FILTER, matchesFilter, needsJobHosts, type WebhookFilter } from '../../src/webhooks/filter.ts';
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from '../../src/webhooks/inputs.ts';

const event = (over: Partial<Parameters<typeof matchesFilter>[1]> = {}) => ({
  type: 'STEP_FINISHED' as const,
  kind: 'createBridge' as const,
  ticketRef: 'NET-42',
  host: 'hv1' as string | null,
  ...over,
});
const filter = (over: Partial<WebhookFilter>): WebhookFilter => ({ ...EMPTY_FILTER, ...over });

describe('webhook event types', () => {
  it('are job. + the job event type in lower case, one for one and back', () => {
    expect(webhookEventType('STEP_FINISHED')).toBe('job.step_finished');
    expect(webhookEventType('SUCCEEDED')).toBe('job.succeeded');
    expect(webhookEventType('HOST_PLANNED')).toBe('job.host_planned');
    expect(WEBHOOK_EVENT_TYPES).toHaveLength(JOB_EVENT_TYPES.length);
    expect(new Set(WEBHOOK_EVENT_TYPES).size).toBe(JOB_EVENT_TYPES.length);
    for (const t of JOB_EVENT_TYPES) {
      expect(webhookEventType(t)).toMatch(/^job\.[a-z_]+$/);
      expect(jobEventTypeOf(webhookEventType(t))).toBe(t);
    }
    expect(jobEventTypeOf('job.nope')).toBeNull();
    expect(jobEventTypeOf('SUCCEEDED')).toBeNull();
  });
});

describe('webhook filters', () => {
  it('an empty filter takes every event', () => {
    expect(matchesFilter(EMPTY_FILTER, event())).toBe(true);
    expect(matchesFilter(EMPTY_FILTER, event({ ticketRef: null, host: null }))).toBe(true);
  });

  it('event types, kinds: the event must be one of those listed', () => {
    expect(matchesFilter(filter({ eventTypes: ['SUCCEEDED', 'FAILED'] }), event())).toBe(false);
    expect(matchesFilter(filter({ eventTypes: ['SUCCEEDED', 'STEP_FINISHED'] }), event())).toBe(true);
    expect(matchesFilter(filter({ kinds: ['ensureVlan'] }), event())).toBe(false);
    expect(matchesFilter(filter({ kinds: ['ensureVlan', 'createBridge'] }), event())).toBe(true);
  });

  it('ticketRef prefix: jobs whose ticketRef starts with it; jobs without one never match', () => {
    expect(matchesFilter(filter({ ticketRefPrefix: 'NET-' }), event())).toBe(true);
    expect(matchesFilter(filter({ ticketRefPrefix: 'NET-42' }), event())).toBe(true);
    expect(matchesFilter(filter({ ticketRefPrefix: 'NET-420' }), event())).toBe(false);
    expect(matchesFilter(filter({ ticketRefPrefix: 'net-' }), event())).toBe(false);
    expect(matchesFilter(filter({ ticketRefPrefix: 'NET-' }), event({ ticketRef: null }))).toBe(false);
  });

  it("hypervisors: a host event by its host, a job-level event by the job's hosts", () => {
    const f = filter({ hypervisors: ['hv2'] });
    expect(needsJobHosts(f, event())).toBe(false);
    expect(matchesFilter(f, event())).toBe(false);
    expect(matchesFilter(f, event({ host: 'hv2' }))).toBe(true);
    const jobLevel = event({ type: 'SUCCEEDED', host: null });
    expect(needsJobHosts(f, jobLevel)).toBe(true);
    expect(needsJobHosts(EMPTY_FILTER, jobLevel)).toBe(false);
    expect(matchesFilter(f, jobLevel, ['hv1', 'hv2'])).toBe(true);
    expect(matchesFilter(f, jobLevel, ['hv1'])).toBe(false);
    // The job record expired: its hosts are unknown, the event does not match.
    expect(matchesFilter(f, jobLevel, null)).toBe(false);
  });

  it('every part that is set must match', () => {
    const f = filter({ eventTypes: ['SUCCEEDED'], kinds: ['createBridge'], ticketRefPrefix: 'NET-', hypervisors: ['hv1'] });
    const done = event({ type: 'SUCCEEDED', host: null });
    expect(matchesFilter(f, done, ['hv1'])).toBe(true);
    expect(matchesFilter(f, { ...done, kind: 'deleteBridge' }, ['hv1'])).toBe(false);
    expect(matchesFilter(f, { ...done, ticketRef: 'OPS-1' }, ['hv1'])).toBe(false);
    expect(matchesFilter(f, done, ['hv2'])).toBe(false);
    expect(matchesFilter(f, { ...done, type: 'FAILED' }, ['hv1'])).toBe(false);
  });
});

describe('webhook inputs', () => {
  const errorsOf = (input: unknown) => {
    const r = CreateWebhookEndpointInput.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults: enabled, no description, an empty filter', () => {
    expect(CreateWebhookEndpointInput.parse({ url: 'http://127.0.0.1:9/x' })).toEqual({
      url: 'http://127.0.0.1:9/x',
      description: '',
      enabled: true,
      filter: EMPTY_FILTER,
    });
  });

  it.each([
    ['ftp://127.0.0.1/x', /http/],
    ['file:///etc/passwd', /http/],
    ['javascript:alert(1)', /http/],
    ['127.0.0.1:8080', /http/],
    ['not a url', /absolute/],
    ['http://user:pw@127.0.0.1/', /user name or password/],
    [`http://127.0.0.1/${'a'.repeat(2100)}`, /2048/],
  ])('refuses the URL %s', (url, message) => {
    expect(errorsOf({ url }).join('; ')).toMatch(message);
  });

  it('refuses unknown event types, kinds, bad hypervisor names, unknown fields', () => {
    expect(errorsOf({ url: 'http://127.0.0.1/', filter: { eventTypes: ['job.succeeded'] } })[0]).toMatch(/^filter.eventTypes.0/);
    expect(errorsOf({ url: 'http://127.0.0.1/', filter: { kinds: ['rmRf'] } })[0]).toMatch(/^filter.kinds.0/);
    expect(errorsOf({ url: 'http://127.0.0.1/', filter: { hypervisors: ['-x'] } })[0]).toMatch(/^filter.hypervisors.0/);
    expect(errorsOf({ url: 'http://127.0.0.1/', secret: 'mine' })[0]).toMatch(/secret/);
    expect(errorsOf({ url: 'http://127.0.0.1/', filter: { ticketRefPrefix: '' } })[0]).toMatch(/^filter.ticketRefPrefix/);
  });

  it('an update changes only the fields it gives', () => {
    expect(UpdateWebhookEndpointInput.parse({ enabled: false })).toEqual({ enabled: false });
    expect(UpdateWebhookEndpointInput.safeParse({ id: 'x' }).success).toBe(false);
  });
});

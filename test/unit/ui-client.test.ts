import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, type Fetch, interpret } from '../../ui/src/api.ts';
import { ago, duration, excerpt, jobUuid, shortJobId, tagList } from '../../ui/src/format.ts';
import { applyEvent } from '../../ui/src/jobs-model.ts';
import { formatRoute, parseRoute, type Route } from '../../ui/src/router.ts';
import { normaliseToken, Session } from '../../ui/src/session.ts';
import { SseParser } from '../../src/sse/event-stream.ts';
import { backoffMs, subscribe } from '../../ui/src/stream.ts';
import type { JobDetail, JobEventData, JobLive } from '../../ui/src/types.ts';

/**
 * The UI's client side: answers and refusals as the gateway gives them, the SSE stream of a
 * real jobProgress subscription (captured from the lab by test/e2e/ui.test.ts) parsed in any
 * chunking and followed through drops, hash routes, the session, the text helpers.
 */
const FIXTURES = new URL('../fixtures/ui/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const transcript = read('job-progress.sse.txt');
const refused = JSON.parse(read('graphql-401.json'));
const forbidden = JSON.parse(read('graphql-403.json'));
const job = JSON.parse(read('job-ensure-vlan.json')).job as JobDetail;

/** The transcript cut into pieces of the given sizes (cycled). */
function chunks(text: string, sizes: number[]): string[] {
  const out: string[] = [];
  for (let i = 0, k = 0; i < text.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('SSE parsing', () => {
  const whole = new SseParser().feed(transcript);

  it('reads a real jobProgress stream: every event a next with its payload, then complete', () => {
    const next = whole.filter((m) => m.event === 'next');
    expect(next.length).toBeGreaterThan(10);
    const types = next.map((m) => JSON.parse(m.data).data.jobProgress.type);
    expect(types[0]).toBe('QUEUED');
    expect(types.at(-1)).toBe('SUCCEEDED');
    expect(whole.at(-1)).toEqual({ event: 'complete', data: '', id: null });
  });

  it('gives the same messages however the bytes arrive (one character at a time, odd sizes, CRLF lines)', () => {
    for (const sizes of [[1], [7, 3, 1024], [65_536]]) {
      const p = new SseParser();
      expect(
        chunks(transcript, sizes).flatMap((c) => p.feed(c)),
        String(sizes),
      ).toEqual(whole);
    }
    const crlf = new SseParser();
    expect(chunks(transcript.replace(/\n/g, '\r\n'), [5, 1, 2]).flatMap((c) => crlf.feed(c))).toEqual(whole);
  });

  it('skips comments (keep-alives), joins data lines, keeps the id', () => {
    expect(new SseParser().feed(': ping\n\nid: 7\ndata: a\ndata: b\n\n')).toEqual([{ event: 'message', data: 'a\nb', id: '7' }]);
  });
});

describe('answers and refusals', () => {
  it('a refused token is a 401 that asks to sign in again, with the gateway’s reason', () => {
    expect(refused.status).toBe(401);
    const err = catching(() => interpret(refused.status, refused.body));
    expect(err).toMatchObject({ kind: 'unauthenticated', status: 401, code: 'UNAUTHENTICATED' });
    expect(err.message).toBe('The gateway refused the token (401): unknown or wrong API token');
  });

  it('what a token may not see is a 403 that says so (also when GraphQL answers it as an error with status 200)', () => {
    const err = catching(() => interpret(forbidden.status, forbidden.body));
    expect(err).toMatchObject({ kind: 'forbidden', code: 'FORBIDDEN' });
    expect(err.message).toMatch(
      /^Not allowed for this token \(403\): id: job \S+ does not exist or is not allowed to this token\. Ask an admin/,
    );
    expect(catching(() => interpret(403, null)).kind).toBe('forbidden');
  });

  it('data is data; other failures carry their code', () => {
    expect(interpret(200, { data: { job } })).toEqual({ job });
    expect(catching(() => interpret(200, { errors: [{ message: 'too deep', extensions: { code: 'QUERY_TOO_COMPLEX' } }] }))).toMatchObject({
      kind: 'request',
      message: 'QUERY_TOO_COMPLEX: too deep',
    });
    expect(catching(() => interpret(503, null)).kind).toBe('unavailable');
    expect(catching(() => interpret(502, null)).kind).toBe('request');
  });

  it('sends the session’s token as Bearer, read at each call', async () => {
    const seen: Array<Record<string, string>> = [];
    const fake: Fetch = async (_url, init) => {
      seen.push(init.headers as Record<string, string>);
      return new Response(JSON.stringify({ data: { me: { name: 'x' } } }), { status: 200 });
    };
    let token: string | null = 'tl_a_b';
    const api = createApi(() => token, fake);
    await api.query('{ me { name } }');
    token = null;
    await api.query('{ me { name } }');
    await api.query('{ me { name } }', {}, 'tl_c_d');
    expect(seen.map((h) => h.authorization)).toEqual(['Bearer tl_a_b', undefined, 'Bearer tl_c_d']);
    const down: Fetch = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(createApi(() => null, down).query('{ me { name } }')).rejects.toMatchObject({ kind: 'network' });
  });
});

function catching(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

/** A fetch answering an SSE body from the given pieces; `drop` ends it without `complete` (a cut connection). */
function sseResponse(pieces: string[]): Response {
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream({
      start(controller) {
        for (const p of pieces) controller.enqueue(encoder.encode(p));
        controller.close();
      },
    }),
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
  );
}

describe('a subscription over SSE', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers every event of the real stream and ends when the server completes it', async () => {
    const got: string[] = [];
    const done = new Promise<void>((resolve) => {
      subscribe<{ jobProgress: { type: string } }>({
        document: 'subscription',
        variables: () => ({}),
        token: () => 'tl_a_b',
        fetch: async () => sseResponse(chunks(transcript, [333])),
        onNext: (d) => got.push(d.jobProgress.type),
        onComplete: resolve,
      });
    });
    await done;
    expect(got[0]).toBe('QUEUED');
    expect(got.at(-1)).toBe('SUCCEEDED');
    expect(got).toHaveLength(transcript.split('event: next').length - 1);
  });

  it('reconnects after a drop with the variables asked anew (resume from the last event), and says so', async () => {
    vi.useFakeTimers();
    const next = transcript.split('\n\n').filter((b) => b.startsWith('event: next'));
    const calls: unknown[] = [];
    const statuses: string[] = [];
    const opened: boolean[] = [];
    let since = 0;
    const got: number[] = [];
    const answers = [
      // The first connection drops after two events, the second is refused by the network, the third completes.
      () => sseResponse([`${next[0]}\n\n`, `${next[1]}\n\n`]),
      () => Promise.reject(new TypeError('connection refused')),
      () => sseResponse([`${next[2]}\n\n`, 'event: complete\ndata:\n\n']),
    ];
    const finished = new Promise<void>((resolve) => {
      subscribe<unknown>({
        document: 'subscription',
        variables: () => ({ since }),
        token: () => 'tl_a_b',
        fetch: async (_u, init) => {
          calls.push(JSON.parse(String(init.body)).variables);
          return answers[calls.length - 1]!();
        },
        onNext: () => got.push(++since),
        onOpen: (reconnected) => opened.push(reconnected),
        onStatus: (s) => statuses.push(s),
        onComplete: resolve,
      });
    });
    await vi.runAllTimersAsync();
    await finished;
    expect(calls).toEqual([{ since: 0 }, { since: 2 }, { since: 2 }]);
    expect(got).toEqual([1, 2, 3]);
    expect(opened).toEqual([false, true]);
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'reconnecting', 'reconnecting', 'reconnecting', 'open', 'closed']);
  });

  it('stops for good on a refused token, telling why', async () => {
    const fatal = await new Promise<ApiError>((resolve) => {
      subscribe<unknown>({
        document: 'subscription',
        variables: () => ({}),
        token: () => 'tl_bad',
        fetch: async () => new Response(JSON.stringify(refused.body), { status: 401 }),
        onNext: () => {},
        onFatal: resolve,
      });
    });
    expect(fatal.kind).toBe('unauthenticated');
  });

  it('waits longer after each failed attempt, up to 15 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });
});

describe('the job view follows the events of the real stream', () => {
  it('applies each event’s step and job fields; ends as the job ended, and asks for a full read where events lack detail', () => {
    const events = new SseParser()
      .feed(transcript)
      .filter((m) => m.event === 'next')
      .map((m) => JSON.parse(m.data).data.jobProgress as JobEventData<JobLive>);
    // From the job as it was queued: no steps known yet.
    let current: JobDetail = { ...job, state: 'QUEUED', steps: [], hosts: [] };
    const readAgainAt: string[] = [];
    for (const e of events) {
      const r = applyEvent(current, e);
      current = r.job;
      if (r.readAgain) readAgainAt.push(e.type);
    }
    expect(current.state).toBe('SUCCEEDED');
    expect(current.steps.map((s) => [s.host, s.index, s.state])).toEqual(job.steps.map((s) => [s.host, s.index, s.state]));
    expect(readAgainAt).toContain('HOST_PLANNED');
    expect(readAgainAt.at(-1)).toBe('SUCCEEDED');
  });
});

describe('hash routes', () => {
  it('parses every page and formats it back', () => {
    const cases: Array<[string, Route]> = [
      ['', { page: 'topology', vlan: null, host: null }],
      ['#/topology?vlan=1001&host=hv2', { page: 'topology', vlan: 1001, host: 'hv2' }],
      ['#/vlans', { page: 'vlans' }],
      ['#/vlans/1002', { page: 'vlan', tag: 1002 }],
      [
        '#/jobs?state=RUNNING&kind=ensureVlan&host=hv1&ticket=CHG-1',
        { page: 'jobs', filter: { state: 'RUNNING', kind: 'ensureVlan', host: 'hv1', ticket: 'CHG-1' } },
      ],
      [`#/jobs/${job.id}`, { page: 'job', id: job.id }],
    ];
    for (const [hash, route] of cases) {
      expect(parseRoute(hash), hash).toEqual(route);
      expect(parseRoute(formatRoute(route))).toEqual(route);
    }
    expect(formatRoute({ page: 'topology', vlan: null, host: null })).toBe('#/topology');
  });

  it('ignores what is not a filter value, and names what is no page', () => {
    expect(parseRoute('#/topology?vlan=5000')).toEqual({ page: 'topology', vlan: null, host: null });
    expect(parseRoute('#/jobs?state=DONE&kind=nope')).toEqual({
      page: 'jobs',
      filter: { state: null, kind: null, host: null, ticket: null },
    });
    expect(parseRoute('#/vlans/abc').page).toBe('not-found');
    expect(parseRoute('#/metrics').page).toBe('not-found');
  });
});

describe('the session', () => {
  it('keeps the token until signing out', () => {
    const store = new Map<string, string>();
    const session = new Session({
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    });
    expect(session.token).toBeNull();
    session.signIn('tl_a_b');
    expect(session.token).toBe('tl_a_b');
    session.signOut();
    expect(session.token).toBeNull();
    expect(normaliseToken('  Bearer tl_a_b \n')).toBe('tl_a_b');
  });
});

describe('text', () => {
  it('durations, times ago, VLAN ranges, output excerpts, job ids', () => {
    expect([0, 999, 1000, 59_400, 61_000, 3_600_000, 3_660_000].map(duration)).toEqual([
      '0 ms',
      '999 ms',
      '1 s',
      '59 s',
      '1 min 1 s',
      '1 h',
      '1 h 1 min',
    ]);
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(ago('2026-12-01T11:59:48Z', now)).toBe('12 s ago');
    expect(ago('2026-12-01T11:57:55Z', now)).toBe('2 min ago');
    expect(ago(null, now)).toBe('never');
    expect(tagList([1002, 1001, 1003, 1010, 1012, 1011, 7])).toBe('7,1001-1003,1010-1012');
    expect(tagList([1001, 1002])).toBe('1001,1002');
    const step = job.steps.find((s) => s.stdout)!;
    expect(excerpt(step.stdout)).toEqual({ text: step.stdout!.trim(), omittedLines: 0 });
    expect(excerpt(step.stderr)).toBeNull();
    const long = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    expect(excerpt(long, 5)).toEqual({ text: 'line 35\nline 36\nline 37\nline 38\nline 39', omittedLines: 35 });
    expect(jobUuid(job.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(shortJobId(job.id)).toBe(jobUuid(job.id).slice(0, 8));
    expect(jobUuid('not-a-global-id')).toBe('not-a-global-id');
  });
});

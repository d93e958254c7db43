import { spawnSync } from 'node:child_process';
import { parse } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { schema } from '../../graphql/schema.ts';
import { OPERATIONS } from '../../rest/operations/index.ts';
import { API_BASE } from '../../rest/replies.ts';
import type { HostState } from '../../src/hosts/host-state.ts';
import { collectOnScrape, hostGauges, type ScrapeSources } from '../../src/metrics/collectors.ts';
import { defineGatewayMetrics } from '../../src/metrics/definitions.ts';
import { createGatewayMetrics } from '../../src/metrics/gateway.ts';
import { graphqlMetricPlugins, outcomeOf } from '../../src/metrics/graphql.ts';
import { graphqlOperationLabels, httpMethod, httpRoute, restOperationMatcher } from '../../src/metrics/labels.ts';
import { joinExpositions } from '../../src/metrics/registry.ts';

/** Label values stay in closed sets (src/metrics/labels.ts): nothing a client names, no job id. */

const labels = (query: string, operationName?: string) => graphqlOperationLabels(schema, parse(query), operationName);

describe('GraphQL labels: the root field of the schema, never the client’s names', () => {
  it('the field, not its alias nor the operation’s name', () => {
    expect(labels('query AnythingTheClientLikes { mine: hypervisors { name } }', 'AnythingTheClientLikes')).toEqual({
      operation_type: 'query',
      operation: 'hypervisors',
    });
    expect(labels('mutation { createBridge(input: { hypervisor: "hv1", name: "b" }) { job { id } } }')).toEqual({
      operation_type: 'mutation',
      operation: 'createBridge',
    });
  });

  it('the operationName picks the operation of a document with several; an unknown name falls back to the first', () => {
    const doc = 'query A { hypervisors { name } } query B { jobs { nodes { id } } }';
    expect(labels(doc, 'B').operation).toBe('jobs');
    expect(labels(doc, 'A').operation).toBe('hypervisors');
    expect(labels(doc, 'NoSuchOperation').operation).toBe('hypervisors');
  });

  it('through inline fragments and fragment spreads at the root', () => {
    expect(labels('query { ... on Query { hypervisors { name } } }').operation).toBe('hypervisors');
    expect(labels('query { ...Root } fragment Root on Query { hypervisors { name } }').operation).toBe('hypervisors');
    // A fragment that spreads itself does not loop.
    expect(labels('query { ...R } fragment R on Query { ...R hypervisors { name } }').operation).toBe('hypervisors');
  });

  it('several root fields are "multiple", meta fields alone "introspection", a field the schema lacks "unknown"', () => {
    expect(labels('{ hypervisors { name } jobs { nodes { id } } }').operation).toBe('multiple');
    expect(labels('{ a: hypervisors { name } b: hypervisors { address } }').operation).toBe('hypervisors');
    expect(labels('{ __schema { queryType { name } } }').operation).toBe('introspection');
    expect(labels('{ __typename hypervisors { name } }').operation).toBe('hypervisors');
    expect(labels('{ fieldSomeoneMadeUp }').operation).toBe('unknown');
    expect(labels('{ hypervisors { name } fieldSomeoneMadeUp }').operation).toBe('unknown');
    expect(graphqlOperationLabels(schema, undefined)).toEqual({ operation_type: 'unknown', operation: 'unknown' });
    expect(labels('fragment F on Query { hypervisors { name } }')).toEqual({ operation_type: 'unknown', operation: 'unknown' });
  });

  it('an answer’s outcome: errors, a payload with userErrors, or ok', () => {
    expect(outcomeOf({ data: { hypervisors: [] } })).toBe('ok');
    expect(outcomeOf({ data: { createBridge: { job: null, userErrors: [{ message: 'no' }] } } })).toBe('user_error');
    expect(outcomeOf({ data: { createBridge: { job: { id: 'x' }, userErrors: [] } } })).toBe('ok');
    expect(outcomeOf({ data: null, errors: [{ message: 'boom' } as never] })).toBe('error');
  });

  it('through yoga and @graphql-yoga/plugin-prometheus: the root field labels every metric, the client’s operationName none', async () => {
    const registry = new Registry();
    const set = defineGatewayMetrics(registry);
    const tiny = createSchema({
      typeDefs: 'type Query { hello: String, fails: String }',
      resolvers: {
        Query: {
          hello: () => 'hi',
          fails: () => {
            throw new Error('no');
          },
        },
      },
    });
    const yoga = createYoga({ schema: tiny, plugins: graphqlMetricPlugins(registry, set, tiny), logging: false, maskedErrors: false });
    const post = (query: string, operationName?: string) =>
      yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, operationName }),
      });
    expect((await post('query Secret_Client_Name_42 { greeting: hello }', 'Secret_Client_Name_42')).status).toBe(200);
    await post('query Another_Name { fails }');
    await post('{ nosuchfield }');
    await post('{ this is not graphql');
    const text = await registry.metrics();
    expect(text).not.toMatch(/Secret_Client_Name_42|Another_Name|greeting|nosuchfield/);
    expect(text).toContain('trunkline_graphql_operations_total{operation_type="query",operation="hello",outcome="ok"} 1');
    expect(text).toContain('trunkline_graphql_operations_total{operation_type="query",operation="fails",outcome="error"} 1');
    expect(text).toContain('trunkline_graphql_operations_total{operation_type="query",operation="unknown",outcome="invalid"} 1');
    expect(text).toContain('trunkline_graphql_operations_total{operation_type="unknown",operation="unknown",outcome="invalid"} 1');
    expect(text).toContain('graphql_envelop_request_total{operation_type="query",operation="hello"} 1');
    expect(text).toContain('graphql_envelop_request_duration_seconds_count{operation_type="query",operation="hello"} 1');
    expect(text).toContain('graphql_envelop_error_result_total{operation_type="query",operation="fails",phase="execute"} 1');
    expect(text).toMatch(/graphql_envelop_error_result_total\{operation_type="query",operation="unknown",phase="validate"\} 1/);
    expect(text).toMatch(
      /graphql_yoga_http_duration_seconds_count\{operation_type="query",operation="hello",method="POST",status_code="200"\} 1/,
    );
    expect(text).toMatch(/graphql_envelop_phase_duration_seconds_count\{phase="parse",operation_type="query"\} \d/);
    // The plugin's own endpoint is off: /metrics is the gateway's, behind its authentication.
    expect((await yoga.fetch('http://gateway/metrics')).status).toBe(404);
  });
});

describe('REST labels: the operationId, never the path', () => {
  const operationOf = restOperationMatcher(OPERATIONS.map((o) => ({ ...o, path: `${API_BASE}${o.path}` })));

  it('path parameters (hosts, job ids) never reach the label', () => {
    expect(operationOf('GET', '/api/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('getJob');
    expect(operationOf('HEAD', '/api/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('getJob');
    expect(operationOf('POST', '/api/v1/hypervisors/hv1/bridges')).toBe('createBridge');
    expect(operationOf('post', '/api/v1/hypervisors/any-host/bridges')).toBe('createBridge');
    expect(operationOf('DELETE', '/api/v1/hypervisors/hv1/bridges/br0')).toBe('deleteBridge');
    expect(operationOf('POST', '/api/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e/cancel')).toBe('cancelJob');
  });

  it('a path or method the API does not serve is "unknown"', () => {
    expect(operationOf('GET', '/api/v1/no-such-thing/0f8fad5b')).toBe('unknown');
    expect(operationOf('PATCH', '/api/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('unknown');
    expect(operationOf('GET', '/api/v1/jobs/a/b/c/d')).toBe('unknown');
    expect(operationOf('GET', '/api/v1/hypervisors/hv1/bridges/')).toBe('unknown');
  });

  it('every operation is reachable by its own path: a literal segment wins over a parameter', () => {
    for (const op of OPERATIONS) {
      const path = `${API_BASE}${op.path}`.replace(/\{[^}]+\}/g, 'x1');
      const found = operationOf(op.method, path);
      // A parameter filled with "x1" can only meet another operation with a literal "x1": none exists.
      expect(found, `${op.method} ${path}`).toBe(op.operationId);
    }
  });

  it('entry points and methods from closed sets', () => {
    expect(
      ['/graphql', '/api/v1/jobs/1', '/api/v1', '/api/docs/', '/metrics', '/healthz/ready', '/ui/jobs', '/wp-admin.php'].map((p) =>
        httpRoute(p, API_BASE),
      ),
    ).toEqual(['graphql', 'rest', 'rest', 'docs', 'metrics', 'healthz', 'ui', 'other']);
    expect(['get', 'POST', 'Delete', 'BREW', 'PROPFIND'].map(httpMethod)).toEqual(['GET', 'POST', 'DELETE', 'other', 'other']);
  });
});

const state = (host: string, over: Partial<HostState>): HostState => ({
  host,
  status: 'REACHABLE',
  observedAt: null,
  checkedAt: new Date(0).toISOString(),
  error: null,
  versions: { ovs: null, libvirt: null, qemu: null },
  ovs: null,
  libvirt: null,
  read: null,
  ...over,
});

describe('scrape-time gauges (collectors.ts)', () => {
  const now = Date.parse('2030-01-01T00:01:00Z');
  const fresh = state('hv1', { observedAt: '2030-01-01T00:00:30Z' });
  const failed = state('hv2', {
    status: 'UNREACHABLE',
    observedAt: '2030-01-01T00:00:00Z',
    error: { code: 'SSH_TIMEOUT' as never, message: 'no answer' },
  });

  it('reachability, age and staleness from each registered host’s cached state; a host never read has no age', () => {
    const states = new Map<string, HostState | null>([
      ['hv1', fresh],
      ['hv2', failed],
      ['hv3', null],
    ]);
    expect(hostGauges(['hv1', 'hv2', 'hv3'], states, 90, now)).toEqual([
      { host: 'hv1', reachable: 1, ageSeconds: 30, stale: 0 },
      { host: 'hv2', reachable: 0, ageSeconds: 60, stale: 1 },
      { host: 'hv3', reachable: 0, ageSeconds: null, stale: 1 },
    ]);
    expect(hostGauges(['hv1'], states, 10, now)[0]!.stale).toBe(1);
  });

  it('reads once per scrape; a host that left the registry leaves the gauges; a failed read keeps the last values and is counted', async () => {
    const registry = new Registry();
    const set = defineGatewayMetrics(registry);
    let hosts = ['hv1', 'hv2'];
    let fail = false;
    const sources: ScrapeSources = {
      queues: [{ name: 'changes', queue: { getJobCounts: async () => ({ waiting: 3, active: 1 }) } }],
      hosts: {
        list: async () => {
          if (fail) throw new Error('Redis unavailable');
          return hosts.map((name) => ({ name }));
        },
      },
      cache: { getMany: async (names) => new Map(names.map((n) => [n, n === 'hv1' ? fresh : failed])) },
      freshnessSeconds: 90,
    };
    await collectOnScrape(set, sources, now);
    let text = await registry.metrics();
    expect(text).toContain('trunkline_queue_jobs{queue="changes",state="waiting"} 3');
    expect(text).toContain('trunkline_host_reachable{host="hv2"} 0');
    expect(text).toContain('trunkline_hosts_registered 2');
    hosts = ['hv1'];
    await collectOnScrape(set, sources, now);
    text = await registry.metrics();
    expect(text).not.toContain('host="hv2"');
    expect(text).toContain('trunkline_hosts_registered 1');
    fail = true;
    await collectOnScrape(set, sources, now);
    text = await registry.metrics();
    expect(text).toContain('trunkline_host_reachable{host="hv1"} 1');
    expect(text).toContain('trunkline_metrics_collect_errors_total{collector="hosts"} 1');
  });

  it('a gateway scrape with nothing watched yet renders; expositions join with one newline at the end', async () => {
    const m = createGatewayMetrics({ restRoutes: [], restBase: API_BASE, processMetrics: false });
    expect(await m.scrape()).toContain('# TYPE trunkline_http_requests_total counter');
    expect(joinExpositions('a 1\n', null, '', 'b 2\n\n')).toBe('a 1\n\nb 2\n');
  });
});

describe('the expositions parse (promtool check metrics, when Debian’s prometheus package is installed)', () => {
  it.skipIf(spawnSync('promtool', ['--version']).status !== 0)('a gateway’s, with GraphQL and REST series', async () => {
    const m = createGatewayMetrics({
      restRoutes: OPERATIONS.map((o) => ({ ...o, path: `${API_BASE}${o.path}` })),
      restBase: API_BASE,
      processMetrics: false,
    });
    m.plugins(schema);
    m.set.restRequests.inc({ operation: 'getJob', status: '200' });
    m.set.restDuration.observe({ operation: 'getJob' }, 0.01);
    m.set.hostReachable.set({ host: 'hv1' }, 1);
    m.jobEnded({
      kind: 'createBridge',
      state: 'SUCCEEDED',
      createdAt: new Date(0).toISOString(),
      finishedAt: new Date(1500).toISOString(),
    } as never);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await m.scrape(), encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});

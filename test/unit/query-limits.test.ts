import type { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { QUERIES } from '../../bench/support/fleet-queries.ts';
import { aliasFlood, deepQuery as deep } from '../../bench/support/abusive-queries.ts';
import { queryLimitPlugins } from '../../gateway/query-limits.ts';
import { schema } from '../../graphql/schema.ts';
import { type GraphqlLimits, loadConfig } from '../../src/config/config.ts';

/*
 * The GraphQL abuse limits, through yoga's real plugin chain (parse and validate as the gateway
 * runs them; nothing executes, so no services are needed): each limit refuses with its code, the
 * defaults let the largest queries Trunkline's own clients send through.
 */

const DEFAULTS = loadConfig({}).graphql;

/** The errors parse + validate give a query on a yoga with these limits (armor throws some of them, as yoga expects). */
function refusals(query: string, limits: GraphqlLimits = DEFAULTS): GraphQLError[] {
  const yoga = createYoga({ schema, plugins: queryLimitPlugins(limits) });
  const { parse, validate, schema: s } = yoga.getEnveloped({ request: new Request('http://x/graphql') });
  try {
    return [...validate(s, parse(query))];
  } catch (err) {
    return [err as GraphQLError];
  }
}

const codes = (errors: GraphQLError[]) =>
  errors.map((e) => ({ code: e.extensions.code, limit: e.extensions.limit, max: e.extensions.max }));

describe('GraphQL abuse limits (graphql-armor)', () => {
  it('defaults: depth 12, 30 aliases, cost 20000, 5000 tokens, 20 directives, no introspection', () => {
    expect(DEFAULTS).toEqual({
      maxDepth: 12,
      maxAliases: 30,
      maxCost: 20_000,
      maxTokens: 5000,
      maxDirectives: 20,
      introspection: false,
      bodyLimitBytes: 1024 * 1024,
      executionTimeoutMs: 30_000,
    });
    const c = loadConfig({ TRUNKLINE_GRAPHQL_MAX_DEPTH: '8', TRUNKLINE_GRAPHQL_INTROSPECTION: 'true' }).graphql;
    expect([c.maxDepth, c.introspection]).toEqual([8, true]);
    expect(() => loadConfig({ TRUNKLINE_GRAPHQL_MAX_TOKENS: '10' })).toThrow(/TRUNKLINE_GRAPHQL_MAX_TOKENS/);
  });

  it("the issue's 2,000-alias fleet query stops at the token limit while parsing", () => {
    const query = aliasFlood(2000);
    expect(query.length).toBeGreaterThan(200_000);
    const errors = refusals(query);
    expect(codes(errors)).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit: 'tokens', max: 5000 }]);
    expect(errors[0]!.message).toBe('Syntax Error: Token limit of 5000 exceeded.');
  });

  it('depth, aliases, directives and cost each refuse with their limit named', () => {
    expect(refusals(deep(8))).toEqual([]);
    const tooDeep = refusals(deep(12));
    expect(codes(tooDeep)).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit: 'depth', max: 12 }]);
    expect(tooDeep[0]!.message).toMatch(/^Query depth limit of 12 exceeded, found 1\d\.$/);

    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `h${i}: hypervisors { name }`).join(' ')} }`;
    expect(refusals(aliases(30))).toEqual([]);
    expect(codes(refusals(aliases(31)))).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit: 'aliases', max: 30 }]);

    const directives = (n: number) => `{ hypervisors { ${Array.from({ length: n }, () => 'name @include(if: true)').join(' ')} } }`;
    expect(refusals(directives(20))).toEqual([]);
    expect(codes(refusals(directives(21)))).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit: 'directives', max: 20 }]);

    // Cost with a limit of its own: the same query under a lower ceiling.
    const costly = { ...DEFAULTS, maxCost: 50 };
    expect(codes(refusals(QUERIES.fleet, costly))).toEqual([{ code: 'QUERY_TOO_COMPLEX', limit: 'cost', max: 50 }]);
  });

  it('field suggestions are masked: a wrong field name does not map the schema', () => {
    const [error] = refusals('{ hypervisorz { name } }');
    expect(error!.message).toContain('Cannot query field "hypervisorz"');
    expect(error!.message).not.toMatch(/Did you mean/);
  });

  it('introspection is refused with INTROSPECTION_DISABLED unless configured; __typename stays', () => {
    for (const q of ['{ __schema { types { name } } }', '{ __type(name: "Hypervisor") { fields { name } } }']) {
      const errors = refusals(q);
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e.extensions.code).toBe('INTROSPECTION_DISABLED');
      expect(refusals(q, { ...DEFAULTS, introspection: true })).toEqual([]);
    }
    expect(refusals('{ __typename }')).toEqual([]);
  });

  it("the defaults pass the largest queries Trunkline's own clients send", () => {
    const job = `query($id: ID!) { job(id: $id) { id kind state ticketRef requestedBy createdAt startedAt finishedAt attempts
      cancelRequested changedSteps hypervisors progress { total done percent message } error { code message }
      rollback { host step description command state message }
      events { id type at message hypervisor sequence ticketRef step { index state } progress { percent } }
      hosts { hypervisor state message planNote waitingFor attempts { number outcome } changedSteps startedAt finishedAt error { code message }
        steps { index host description state changed command probeCommand wanted observed exitCode stdout stderr startedAt finishedAt durationMs warning } } } }`;
    for (const q of [QUERIES.fleet, QUERIES.vlan, deep(8), job]) expect(refusals(q).map((e) => e.message)).toEqual([]);
  });
});

import { roleOf } from './operation.ts';
import { z } from 'zod';
import { ERROR_CODE_DESCRIPTIONS } from '../src/errors/codes.ts';
import type { Operation } from './operation.ts';
import { OPERATIONS } from './operations/index.ts';
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from './problem.ts';
import { API_BASE } from './replies.ts';

/*
 * openapi.yaml, generated: every operation of rest/operations/ with its parameters, body and
 * answers as JSON Schema 2020-12 from the same zod schemas that validate them (zod's own
 * toJSONSchema), components from the schemas that carry a `.meta({ id })`, and every problem
 * answer. `npm run openapi:print` writes it; a unit test fails while the file is stale.
 */

type JsonSchema = Record<string, unknown>;
const ref = (id: string) => `#/components/schemas/${id}`;
/** Schemas with a `.meta({ id })`, by id: zod keeps them in its global registry (with every `.describe()` text). */
function componentSchemas(): Map<string, z.ZodType> {
  // biome-ignore lint/suspicious/noExplicitAny: the global registry's id map is not in zod's types
  return new Map((z.globalRegistry as any)._idmap as Map<string, z.ZodType>);
}

/**
 * Converts schemas in one pass per direction (zod resolves references between them only within
 * one registry): components keep their ids and become $refs; every other schema gets a
 * throw-away id and comes back inline.
 */
class SchemaConverter {
  private readonly pending = new Map<z.ZodType, string>();
  private converted: Record<string, JsonSchema> | null = null;
  private readonly io: 'input' | 'output';

  constructor(io: 'input' | 'output') {
    this.io = io;
  }

  /** Registers a schema; the returned function gives its JSON Schema once `run` was called. */
  add(schema: z.ZodType): () => JsonSchema {
    const components = componentSchemas();
    const id = [...components].find(([, s]) => s === schema)?.[0];
    if (id) return () => ({ $ref: ref(id) });
    let key = this.pending.get(schema);
    if (!key) this.pending.set(schema, (key = `~${this.pending.size}`));
    return () => {
      const { $id: _id, $schema: _s, ...out } = this.converted![key!] ?? {};
      return out;
    };
  }

  run(): Record<string, JsonSchema> {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of componentSchemas()) registry.add(schema, { id });
    for (const [schema, id] of this.pending) registry.add(schema, { id });
    this.converted = (
      z.toJSONSchema(registry, {
        target: 'draft-2020-12',
        io: this.io,
        unrepresentable: 'any',
        uri: (id) => (id.startsWith('~') ? id : ref(id)),
        metadata: z.globalRegistry,
      }) as { schemas: Record<string, JsonSchema> }
    ).schemas;
    return this.converted;
  }
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid (path, query, header or body): `errors` names each field. Nothing was queued.',
  401: 'No credentials, or not a valid, current API token (UNAUTHENTICATED); `WWW-Authenticate` says how to send one.',
  429: 'Too many changes or reads by this token this minute (RATE_LIMITED): retry after `Retry-After` seconds.',
  403: "The token's role or host groups do not allow this (FORBIDDEN); for an object: it does not exist or is not visible to this token.",
  404: 'What the path names does not exist.',
  409: "A conflict with the hosts' state (e.g. IN_USE), or the first request with this Idempotency-Key is still being handled (Retry-After).",
  413: 'The body is larger than TRUNKLINE_REST_BODY_LIMIT_BYTES.',
  415: 'The body is not application/json.',
  422: 'Well-formed but refused (e.g. an unknown hypervisor in the body, IDEMPOTENCY_KEY_REUSED).',
  500: 'An unexpected error in the gateway (its log has the details).',
  503: 'Redis is unreachable or refuses writes (SERVICE_UNAVAILABLE): nothing was accepted or changed; retry after `Retry-After` seconds.',
};

const problemAnswer = (status: number) => ({
  description: PROBLEM_DESCRIPTIONS[status] ?? 'An error.',
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: ref('Problem') } } },
});

interface Converters {
  input: SchemaConverter;
  output: SchemaConverter;
}

type Later<T> = () => T;

function parameters(op: Operation, conv: Converters): Later<JsonSchema[]> {
  const parts: Later<JsonSchema[]>[] = [];
  const add = (where: 'path' | 'query', shape: z.ZodObject | undefined) => {
    if (!shape) return;
    const get = conv.input.add(shape);
    parts.push(() => {
      const json = get() as { properties?: Record<string, JsonSchema>; required?: string[] };
      return Object.entries(json.properties ?? {}).map(([name, schema]) => {
        const { description, ...rest } = schema;
        return {
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          ...(description ? { description } : {}),
          schema: rest,
          ...(where === 'query' && (rest.anyOf || rest.type === 'array') ? { style: 'form', explode: true } : {}),
        };
      });
    });
  };
  add('path', op.params);
  add('query', op.query);
  const headers: JsonSchema[] = [];
  if (op.idempotent)
    headers.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a retry safe: the same key with the same request answers the first answer again (no second job) for TRUNKLINE_IDEMPOTENCY_TTL_SECONDS; with another request it is 422 IDEMPOTENCY_KEY_REUSED; while the first is handled, 409.',
      schema: { type: 'string', minLength: 1, maxLength: 257 },
    });
  if (op.operationId === 'getJobEvents')
    headers.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      description: 'The id of the last event received (SSE reconnect): the stream resumes after it.',
      schema: { type: 'string' },
    });
  return () => [...parts.flatMap((p) => p()), ...headers];
}

function requestBody(op: Operation, conv: Converters): Later<JsonSchema | undefined> {
  const body = op.body;
  if (!body) return () => undefined;
  const get = conv.input.add(body.schema);
  return () => {
    const schema = structuredClone(get()) as { properties?: Record<string, unknown>; required?: string[] };
    for (const field of body.omit ?? []) {
      delete schema.properties?.[field];
      if (schema.required) schema.required = schema.required.filter((r) => r !== field);
    }
    if (schema.required?.length === 0) delete schema.required;
    return {
      required: (schema.required?.length ?? 0) > 0,
      ...(body.description ? { description: body.description } : {}),
      content: { 'application/json': { schema } },
    };
  };
}

function answers(op: Operation, conv: Converters): Later<JsonSchema> {
  const entries = Object.entries(op.answers).flatMap(([status, a]) =>
    a ? [{ status, a, get: a.schema ? conv.output.add(a.schema) : null }] : [],
  );
  return () => {
    const out: JsonSchema = {};
    for (const { status, a, get } of entries) {
      const content: JsonSchema = {};
      if (get) content['application/json'] = { schema: get() };
      for (const [type, alt] of Object.entries(a.alternatives ?? {}))
        content[type] = { schema: { type: 'string', description: alt.description } };
      out[status] = {
        description: a.description,
        ...(a.headers
          ? { headers: Object.fromEntries(Object.entries(a.headers).map(([h, d]) => [h, { ...d, schema: { type: 'string' } }])) }
          : {}),
        ...(Object.keys(content).length ? { content } : {}),
      };
    }
    // An Idempotency-Key can be in use (409) or used for another request (422) on any operation that takes one.
    const idempotency = op.idempotent ? [409, 422] : [];
    // Every operation needs a token (401), a role or scope that allows it (403), and room in the caller's rate limit (429);
    // any may meet a Redis that cannot serve it (503, Retry-After).
    for (const status of [...new Set([400, 401, 403, 429, ...op.problems, ...idempotency, 500, 503])].sort())
      out[String(status)] = problemAnswer(status);
    return out;
  };
}

const PUBLIC_HEALTH = 'Needs a token like every path, unless the gateway runs with TRUNKLINE_HEALTHZ_PUBLIC=true (for load balancers).';

const READINESS_SCHEMA = {
  type: 'object',
  required: ['status', 'redis', 'workers', 'reasons'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    redis: { type: 'string', enum: ['ok', 'unavailable'] },
    workers: { type: ['integer', 'null'], description: 'Workers consuming the change queue; null when Redis did not answer.' },
    reasons: { type: 'array', items: { type: 'string' } },
  },
};

/** Liveness (`/healthz` and `/healthz/live`): the process answers. */
function liveness(operationId: string): Record<string, unknown> {
  return {
    operationId,
    tags: ['Gateway'],
    summary: 'Liveness of the gateway process (it answers; Redis is not asked).',
    description: PUBLIC_HEALTH,
    responses: {
      200: {
        description: 'The gateway is up.',
        content: {
          'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', const: 'ok' } } } },
        },
      },
      401: problemAnswer(401),
    },
  };
}

export function openApiDocument(operations: readonly Operation[] = OPERATIONS): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {
    '/healthz': { get: liveness('getHealth') },
    '/healthz/live': { get: liveness('getLiveness') },
    '/healthz/ready': {
      get: {
        operationId: 'getReadiness',
        tags: ['Gateway'],
        summary: 'Readiness: Redis answers and at least one worker consumes the change queue.',
        description: `${PUBLIC_HEALTH} Send traffic to a gateway only while this answers 200.`,
        responses: {
          200: { description: 'Ready.', content: { 'application/json': { schema: READINESS_SCHEMA } } },
          401: problemAnswer(401),
          503: { description: 'Not ready: `reasons` says what is missing.', content: { 'application/json': { schema: READINESS_SCHEMA } } },
        },
      },
    },
  };
  const conv: Converters = { input: new SchemaConverter('input'), output: new SchemaConverter('output') };
  const later = operations.map((op) => ({ op, params: parameters(op, conv), body: requestBody(op, conv), responses: answers(op, conv) }));
  conv.input.run();
  const all = conv.output.run();
  for (const { op, params, body, responses } of later) {
    const path = `${API_BASE}${op.path}`;
    const requestBodyObject = body();
    paths[path] ??= {};
    paths[path][op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      description: [op.description, `Needs the ${roleOf(op)} role${roleOf(op) === 'viewer' ? ' (any token)' : ''}.`]
        .filter(Boolean)
        .join('\n\n'),
      'x-trunkline-role': roleOf(op),
      parameters: params(),
      ...(requestBodyObject ? { requestBody: requestBodyObject } : {}),
      responses: responses(),
    };
  }
  // Components: every schema with an id that the paths use, and what those use (zod's registry may hold more).
  void ProblemSchema;
  const used = new Set<string>(['Problem']);
  const text = JSON.stringify(paths);
  for (const m of text.matchAll(/#\/components\/schemas\/([A-Za-z0-9_]+)/g)) used.add(m[1]!);
  // Follow references between components.
  for (let grew = true; grew; ) {
    grew = false;
    for (const id of [...used])
      for (const m of JSON.stringify(all[id] ?? {}).matchAll(/#\/components\/schemas\/([A-Za-z0-9_]+)/g))
        if (!used.has(m[1]!)) {
          used.add(m[1]!);
          grew = true;
        }
  }
  const schemas = Object.fromEntries(
    [...used].sort().map((id) => {
      const { $schema: _s, id: _id, ...schema } = all[id] ?? {};
      return [id, schema];
    }),
  );
  const tags = [...new Set(['Gateway', ...operations.map((o) => o.tag)])].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trunkline REST API',
      version: '1.0.0',
      summary: 'Programmable VLANs for KVM fleets (libvirt + Open vSwitch).',
      description: [
        'The REST face of Trunkline: the same operations, validation, plans and jobs as the GraphQL API at /graphql.',
        'Reads answer from the cache of each host (`observedAt` says when it was read; `?refresh=true` reads first).',
        'Changes answer 202 Accepted with the job and `Location: /api/v1/jobs/{id}`; `?dryRun=true` answers the plan (200) and queues nothing;',
        'an `Idempotency-Key` header makes retries safe. Follow a job with GET /api/v1/jobs/{id}/events (Accept: text/event-stream).',
        `Errors are RFC 9457 application/problem+json with a \`code\` (one of: ${Object.keys(ERROR_CODE_DESCRIPTIONS).join(', ')}) and \`errors\` naming each field.`,
        'Lists are pages: `limit` (1..100) and the `nextCursor` of the previous page as `cursor`. An unknown query parameter is refused (400), not ignored.',
        'Every request needs an API token: `Authorization: Bearer tl_<id>_<secret>` (or HTTP Basic with the token as the password, for browsers). Roles viewer < operator < admin; a token limited to host groups sees and touches only their hypervisors.',
      ].join('\n'),
    },
    security: [{ bearerToken: [] }, { basicToken: [] }],
    servers: [{ url: 'http://127.0.0.1:4000', description: "the gateway's default listen address" }],
    tags,
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'tl_<id>_<secret>',
          description: 'An API token (npm run token -- create, or POST /api/v1/tokens).',
        },
        basicToken: { type: 'http', scheme: 'basic', description: 'For browsers: any user name, the API token as the password.' },
      },
    },
  };
}

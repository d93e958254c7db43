import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { authorization } from './credentials.ts';

/*
 * A REST client for the contract tests: every answer is checked against openapi.yaml, the
 * checked-in contract. `call` finds the documented operation by method and path template, fails
 * the test when the status is not documented for it or the body (JSON or problem+json) does not
 * validate against the documented schema (ajv, JSON Schema 2020-12, components resolved), and
 * records the operation as exercised. `sse` does the same for event streams and parses them.
 */

type JsonSchema = Record<string, unknown>;
interface MediaType {
  schema?: JsonSchema;
}
interface ResponseObject {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, MediaType>;
}
interface OperationObject {
  operationId: string;
  tags?: string[];
  responses: Record<string, ResponseObject>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema> };
}

export const OPENAPI_PATH = new URL('../../openapi.yaml', import.meta.url);
export const OPENAPI: OpenApiDoc = parse(readFileSync(OPENAPI_PATH, 'utf8'));

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
const COMPONENTS_ID = 'openapi.json';

export interface DocumentedOperation {
  operationId: string;
  method: string;
  path: string;
  tags: string[];
  responses: Record<string, ResponseObject>;
  pattern: RegExp;
  params: number;
}

export const DOCUMENTED_OPERATIONS: DocumentedOperation[] = Object.entries(OPENAPI.paths).flatMap(([path, ops]) =>
  METHODS.filter((m) => ops[m]).map((m) => {
    const op = ops[m]!;
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)');
    return {
      operationId: op.operationId,
      method: m.toUpperCase(),
      path,
      tags: op.tags ?? [],
      responses: op.responses,
      pattern: new RegExp(`^${source}$`),
      params: (path.match(/\{/g) ?? []).length,
    };
  }),
);

/** Every operationId an answer was checked for, in this test file. */
export const exercised = new Set<string>();

// `#/components/schemas/X` → `openapi.json#/components/schemas/X`: the components are one schema
// resource with that $id, so refs from operations and between components resolve the same way.
function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(rewriteRefs) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith('#/components/') ? `${COMPONENTS_ID}${v}` : rewriteRefs(v),
      ]),
    ) as T;
  return value;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
addFormatsModule.default(ajv);
// The components as one schema: only `$defs`-like containers are keywords ajv knows, so the
// components object is declared as a keyword without validation of its own.
ajv.addKeyword({ keyword: 'components', schemaType: 'object' });
ajv.addSchema({ $id: COMPONENTS_ID, components: rewriteRefs(OPENAPI.components) });

const validators = new Map<string, ValidateFunction>();
function validatorFor(key: string, schema: JsonSchema): ValidateFunction {
  let v = validators.get(key);
  if (!v) validators.set(key, (v = ajv.compile(rewriteRefs(schema))));
  return v;
}

/** Compiles the schema of every documented JSON answer (ajv strict mode: an unknown keyword fails); returns how many. */
export function compileDocumentedSchemas(): number {
  let n = 0;
  for (const op of DOCUMENTED_OPERATIONS)
    for (const [status, answer] of Object.entries(op.responses))
      for (const [type, media] of Object.entries(answer.content ?? {}))
        if (type.endsWith('json')) {
          validatorFor(`${op.operationId} ${status} ${type}`, media.schema ?? {});
          n++;
        }
  return n;
}

/** Validates a value against a component schema (e.g. JobEvent, Problem); returns ajv's errors. */
export function componentErrors(name: string, value: unknown): string | null {
  const v = validatorFor(`component ${name}`, { $ref: `#/components/schemas/${name}` });
  return v(value) ? null : ajv.errorsText(v.errors, { dataVar: name });
}

/** The documented operation of a method and a concrete path; literal segments win over parameters. */
export function operationFor(method: string, path: string): DocumentedOperation | undefined {
  const pathname = path.split('?')[0]!;
  return DOCUMENTED_OPERATIONS.filter((o) => o.method === method.toUpperCase() && o.pattern.test(pathname)).sort(
    (a, b) => a.params - b.params,
  )[0];
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  signal?: AbortSignal;
  /** The token to send instead of the client's (null: none). */
  token?: string | null;
}

export interface RestAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  operationId: string;
}

export type FetchLike = (request: Request) => Promise<Response>;

const mediaTypeOf = (headers: Headers) => (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();

/** `token`: what every call sends (a call's own `token` wins); left out: the gateway's (credentials.ts). */
export function restClient(base: string, fetchImpl: FetchLike = (r) => fetch(r), clientToken?: string | null) {
  function request(method: string, path: string, opts: CallOptions = {}): Request {
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
      else url.searchParams.append(k, String(v));
    }
    const headers = new Headers(authorization(base, opts.token !== undefined ? opts.token : clientToken));
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k, v);
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return new Request(url, { method, headers, body, signal: opts.signal });
  }

  /** Checks an answer's status and body against the operation's documented responses. */
  function check(op: DocumentedOperation, status: number, headers: Headers, text: string, where: string): unknown {
    const documented = op.responses[String(status)];
    expect(documented, `${where}: status ${status} is not documented for ${op.operationId} (${text.slice(0, 500)})`).toBeDefined();
    if (!documented!.content) {
      expect(text, `${where}: ${status} documents no body`).toBe('');
      return null;
    }
    const type = mediaTypeOf(headers);
    const media = documented!.content[type];
    expect(
      media,
      `${where}: ${status} answered ${type || 'no content type'}; documented: ${Object.keys(documented!.content)}`,
    ).toBeDefined();
    expect(type === 'application/json' || type === 'application/problem+json', `${where}: ${type} is not JSON`).toBe(true);
    const body = JSON.parse(text) as unknown;
    const validate = validatorFor(`${op.operationId} ${status} ${type}`, media!.schema ?? {});
    if (!validate(body))
      expect.fail(
        `${where}: the ${status} body does not match the documented schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 2000)}`,
      );
    return body;
  }

  async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<RestAnswer<T>> {
    const op = operationFor(method, path);
    expect(op, `${method} ${path} is not a documented operation`).toBeDefined();
    const res = await fetchImpl(request(method, path, opts));
    const text = await res.text();
    const body = check(op!, res.status, res.headers, text, `${method} ${path}`);
    exercised.add(op!.operationId);
    return { status: res.status, headers: res.headers, body: body as T, operationId: op!.operationId };
  }

  /** A request to what is not an operation (unknown route, wrong method): the answer must be a valid problem. */
  async function problem(method: string, path: string, opts: CallOptions = {}): Promise<RestAnswer> {
    const res = await fetchImpl(request(method, path, opts));
    const text = await res.text();
    expect(mediaTypeOf(res.headers), `${method} ${path}: ${text}`).toBe('application/problem+json');
    const body = JSON.parse(text) as unknown;
    const errors = componentErrors('Problem', body);
    expect(errors, `${method} ${path}: not a Problem`).toBeNull();
    return { status: res.status, headers: res.headers, body, operationId: '' };
  }

  /**
   * Opens an event stream (Accept: text/event-stream) of a documented operation: the status and
   * the media type must be documented; every event's data must be a JobEvent.
   */
  async function sse(path: string, opts: CallOptions = {}): Promise<EventStream> {
    const op = operationFor('GET', path);
    expect(op, `GET ${path} is not a documented operation`).toBeDefined();
    const abort = new AbortController();
    const req = request('GET', path, { ...opts, headers: { accept: 'text/event-stream', ...opts.headers }, signal: abort.signal });
    const res = await fetchImpl(req);
    if (res.status !== 200 || mediaTypeOf(res.headers) !== 'text/event-stream') {
      const text = await res.text();
      check(op!, res.status, res.headers, text, `GET ${path} (event stream)`);
      exercised.add(op!.operationId);
      return { status: res.status, headers: res.headers, events: (async function* () {})(), close: () => abort.abort(), body: text };
    }
    expect(op!.responses['200']?.content?.['text/event-stream'], `${op!.operationId} documents no text/event-stream`).toBeDefined();
    exercised.add(op!.operationId);
    return { status: res.status, headers: res.headers, events: parseEventStream(res, path), close: () => abort.abort(), body: '' };
  }

  return { call, problem, sse, request };
}

export type RestClient = ReturnType<typeof restClient>;

export interface SseEvent {
  id: string | null;
  event: string;
  data: any;
}

export interface EventStream {
  status: number;
  headers: Headers;
  body: string;
  /** The stream's events (comments and the retry field skipped), each `data` parsed and checked. */
  events: AsyncGenerator<SseEvent>;
  /** Drops the connection (as a client that goes away). */
  close(): void;
}

/** Parses Server-Sent Events (text/event-stream, WHATWG HTML §9.2) from a response body. */
async function* parseEventStream(res: Response, where: string): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        let id: string | null = null;
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (name === 'id') id = value;
          else if (name === 'event') event = value;
          else if (name === 'data') data.push(value);
        }
        if (data.length === 0) continue; // retry: or a comment: no event
        const parsed = JSON.parse(data.join('\n')) as unknown;
        if (event !== 'error') expect(componentErrors('JobEvent', parsed), `${where}: event data is not a JobEvent`).toBeNull();
        yield { id, event, data: parsed };
      }
    }
  } catch (err) {
    // A stream we closed ourselves ends here.
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

import type { Page } from './api.ts';
import { CliCode, CliError, Exit, errorFromAnswer, unreachableError } from './errors.ts';

/*
 * HTTP to the gateway's REST API (/api/v1, openapi.yaml), nothing else: every answer that is not
 * a 2xx becomes a CliError with its exit code (errors.ts), and no answer at all is exit 3.
 */

export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined | null;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

const USER_AGENT = 'trunkline-cli/0.1.0';

/** A path with its parameters encoded: path`/hypervisors/${name}/vms/${vm}`. */
export function path(strings: TemplateStringsArray, ...params: (string | number)[]): string {
  return strings.reduce((out, s, i) => out + s + (i < params.length ? encodeURIComponent(String(params[i])) : ''), '');
}

export class ApiClient {
  readonly apiUrl: string;
  private readonly token: string | null;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;

  constructor(opts: { apiUrl: string; token: string | null; fetch?: FetchLike; timeoutMs?: number }) {
    this.apiUrl = opts.apiUrl;
    this.token = opts.token;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    // Reads with refresh wait for the hosts (bounded on the gateway); nothing else takes long.
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  url(p: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(`${this.apiUrl}${p}`);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      url.searchParams.append(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    return url.toString();
  }

  private headers(extra: Record<string, string> = {}, accept = 'application/json'): Record<string, string> {
    return { accept, 'user-agent': USER_AGENT, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  private async send(method: string, p: string, opts: RequestOptions, accept?: string): Promise<Response> {
    const url = this.url(p, opts.query);
    const headers = this.headers(opts.headers, accept);
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const signal = opts.signal ?? AbortSignal.timeout(this.timeoutMs);
    try {
      return await this.fetchImpl(url, { method, headers, body, signal });
    } catch (err) {
      // Our own abort (the wait's deadline) is not the gateway's fault: the caller handles it.
      if (opts.signal?.aborted) throw err;
      throw unreachableError(this.apiUrl.replace(/\/api\/v1$/, ''), err);
    }
  }

  async request<T>(method: string, p: string, opts: RequestOptions = {}): Promise<Answer<T>> {
    const res = await this.send(method, p, opts);
    const text = await res.text();
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    let parsed: unknown = text;
    if (text && /json$/.test(type)) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new CliError(Exit.UNREACHABLE, CliCode.BAD_ANSWER, `${method} ${p}: the answer is not valid JSON`);
      }
    }
    if (!res.ok) throw errorFromAnswer(res.status, parsed, `${method} ${p}`);
    if (res.status !== 204 && typeof parsed === 'string')
      throw new CliError(Exit.UNREACHABLE, CliCode.BAD_ANSWER, `${method} ${p}: expected JSON, got ${type || 'no content type'}`, {
        hints: [`is ${this.apiUrl.replace(/\/api\/v1$/, '')} a Trunkline gateway?`],
      });
    return { status: res.status, headers: res.headers, body: (res.status === 204 ? null : parsed) as T };
  }

  get<T>(p: string, query?: Record<string, QueryValue>): Promise<T> {
    return this.request<T>('GET', p, { query }).then((a) => a.body);
  }

  /** Every item of a list, page after page (the API pages every list). */
  async listAll<T>(p: string, query: Record<string, QueryValue> = {}, max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const limit = Math.min(100, max - out.length);
      const page: Page<T> = await this.get<Page<T>>(p, { ...query, limit, cursor });
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && out.length < max);
    return out;
  }

  /** Opens an event stream (Accept: text/event-stream), resuming after `lastEventId`. */
  async events(p: string, lastEventId: string | null, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const res = await this.send('GET', p, { headers: lastEventId ? { 'last-event-id': lastEventId } : {}, signal }, 'text/event-stream');
    if (!res.ok) {
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      throw errorFromAnswer(res.status, parsed, `GET ${p}`);
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body)
      throw new CliError(Exit.UNREACHABLE, CliCode.BAD_ANSWER, `GET ${p}: not an event stream`);
    return res.body;
  }
}

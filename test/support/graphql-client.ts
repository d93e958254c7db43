import { authorization } from './credentials.ts';

/** A minimal GraphQL-over-HTTP client for tests: what any script would do with fetch, with the gateway's token (credentials.ts). */
export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface ClientOptions {
  /** The token to send instead of the gateway's (null: none). */
  token?: string | null;
}

export async function gql<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  opts: ClientOptions = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...authorization(url, opts.token) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/**
 * Subscribes over Server-Sent Events (GraphQL over SSE, "distinct connections" mode) and yields
 * each `next` payload until the server completes the stream.
 */
export async function* subscribeSse<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  signal?: AbortSignal,
  opts: ClientOptions = {},
): AsyncGenerator<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authorization(url, opts.token) },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  if (!res.ok || !res.body) throw new Error(`subscription failed: HTTP ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (event === 'complete') return;
      if (event === 'next' && data.length) yield JSON.parse(data.join('\n')) as GraphQLResponse<T>;
    }
  }
}

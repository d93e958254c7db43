/**
 * POSTs a JSON body as a stream of chunks, so it goes without a Content-Length (chunked): how a
 * client that streams its body meets the gateway's body limits.
 */
export function streamedPost(url: string, chunks: readonly string[], headers: Record<string, string> = {}): Promise<Response> {
  const left = [...chunks];
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: new ReadableStream({
      pull(c) {
        const next = left.shift();
        if (next) c.enqueue(new TextEncoder().encode(next));
        else c.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
}

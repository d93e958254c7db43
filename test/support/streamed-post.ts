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

/**
 * What a client gets for a streamed body the gateway refuses as too large: the 413 (its body
 * parsed), or the connection closed under it while it was still sending (EPIPE, ECONNRESET:
 * the gateway answered early and closed, as it must for a body it did not read to the end).
 */
export async function refusedStream(
  url: string,
  chunks: readonly string[],
  headers: Record<string, string> = {},
): Promise<{ status: number | null; body: any; error: string | null }> {
  try {
    const res = await streamedPost(url, chunks, headers);
    return { status: res.status, body: await res.json().catch(() => null), error: null };
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { status: null, body: null, error: code };
  }
}

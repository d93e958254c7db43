import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/*
 * The web UI at /ui (docs/ui.md): one page (ui/index.html, hash routes), its stylesheet, and a
 * bundle of ui/src/main.ts with cytoscape inside, built by esbuild in memory the first time it
 * is asked for (once per process). Nothing comes from elsewhere: the page works offline. The
 * assets hold no data, so they are answered before authentication; the page's own API calls
 * send the token. A strict Content-Security-Policy: scripts, styles and connections from this
 * origin only, no inline script or style, never framed.
 */

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));

export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Revalidated every time (the ETag makes that a 304): a gateway upgrade is seen at the next load.
  'cache-control': 'no-cache',
};

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

function asset(body: Uint8Array | string, type: string): Asset {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
}

let files: Promise<Map<string, Asset>> | undefined;

/** The bundle and its source map, built from ui/src/main.ts; static files read once. */
async function load(): Promise<Map<string, Asset>> {
  const [html, css, result] = await Promise.all([
    readFile(`${UI_DIR}index.html`),
    readFile(`${UI_DIR}style.css`),
    build({
      entryPoints: [`${UI_DIR}src/main.ts`],
      bundle: true,
      write: false,
      outfile: `${UI_DIR}app.js`,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      sourcemap: 'linked',
      sourcesContent: true,
      legalComments: 'none',
      logLevel: 'silent',
    }),
  ]);
  const out = new Map<string, Asset>([
    ['index.html', asset(html, 'text/html; charset=utf-8')],
    ['style.css', asset(css, 'text/css; charset=utf-8')],
  ]);
  for (const f of result.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    out.set(name, asset(f.contents, name.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8'));
  }
  return out;
}

/** What a /ui path names: index.html for the page itself, else the file; null when not a UI path. */
function fileOf(pathname: string): string | null {
  if (pathname === '/ui' || pathname === '/ui/') return 'index.html';
  const name = pathname.startsWith('/ui/') ? pathname.slice('/ui/'.length) : null;
  return name === 'app.js' || name === 'app.js.map' || name === 'style.css' ? name : null;
}

/** Answers the UI's paths (GET, HEAD); null for any other request. A failed build is told to `onError` (the log). */
export async function uiResponse(request: Request, onError: (err: unknown) => void = () => {}): Promise<Response | null> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  const name = fileOf(new URL(request.url).pathname);
  if (!name) return null;
  // A failed build is not kept: the next request tries again (and answers the error too).
  files ??= load().catch((err: unknown) => {
    files = undefined;
    throw err;
  });
  let found: Asset | undefined;
  try {
    found = (await files).get(name);
  } catch (err) {
    onError(err);
    // Answered before authentication: the details stay in the log.
    return new Response('the UI could not be built; the gateway log has why\n', {
      status: 500,
      headers: { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  if (!found) return null;
  const headers = { ...HEADERS, 'content-type': found.type, etag: found.etag };
  if (request.headers.get('if-none-match') === found.etag) return new Response(null, { status: 304, headers });
  return new Response(request.method === 'HEAD' ? null : (found.body as Uint8Array<ArrayBuffer>), { headers });
}

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { openApiDocument } from './openapi-document.ts';
import { printedOpenApi } from './openapi-yaml.ts';

/*
 * The API reference at /api/docs: Swagger UI from the swagger-ui-dist package (its files are
 * served from node_modules, nothing from a CDN: management networks often have no internet),
 * rendering /api/openapi.json. /api/openapi.yaml is the checked-in contract as text.
 */

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
const assetDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Trunkline REST API</title>
  <link rel="icon" href="/api/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/start.js"></script>
</body>
</html>
`;

// A file of its own, so that a Content-Security-Policy without inline scripts can apply.
const START = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#api', validatorUrl: null, deepLinking: true });\n`;

let json: string | undefined;
let yaml: string | undefined;

/** Answers the docs routes; null for any other path. */
export async function docsResponse(request: Request): Promise<Response | null> {
  const { pathname } = new URL(request.url);
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  const security = { 'x-content-type-options': 'nosniff' };
  if (pathname === '/api/openapi.json') {
    json ??= JSON.stringify(openApiDocument());
    return new Response(json, { headers: { ...security, 'content-type': 'application/json' } });
  }
  if (pathname === '/api/openapi.yaml') {
    yaml ??= printedOpenApi();
    return new Response(yaml, { headers: { ...security, 'content-type': 'application/yaml; charset=utf-8' } });
  }
  if (pathname === '/api/docs' || pathname === '/api/docs/')
    return new Response(PAGE, {
      headers: {
        ...security,
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      },
    });
  if (pathname === '/api/docs/start.js')
    return new Response(START, { headers: { ...security, 'content-type': 'text/javascript; charset=utf-8' } });
  const asset = pathname.startsWith('/api/docs/') ? pathname.slice('/api/docs/'.length) : null;
  if (asset && ASSETS[asset])
    return new Response(await readFile(join(assetDir, asset)), {
      headers: { ...security, 'content-type': ASSETS[asset], 'cache-control': 'public, max-age=86400' },
    });
  return null;
}

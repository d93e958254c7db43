import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The REST contract is a stub until the REST issue; this keeps it honest about what exists.
describe('openapi.yaml', () => {
  const text = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
  it('is OpenAPI 3.1 and describes only what the gateway serves', () => {
    expect(text).toMatch(/^openapi: 3\.1\.0$/m);
    const paths = [...text.matchAll(/^ {2}(\/[^:]*):$/gm)].map((m) => m[1]);
    expect(paths).toEqual(['/healthz']);
  });
});

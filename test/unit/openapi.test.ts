import { HEALTH_PATHS } from '../../gateway/health.ts';
import { readFileSync } from 'node:fs';
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRestApp } from '../../rest/app.ts';
import { openApiDocument } from '../../rest/openapi-document.ts';
import { printedOpenApi } from '../../rest/openapi-yaml.ts';
import { OPERATIONS } from '../../rest/operations/index.ts';
import { API_BASE } from '../../rest/replies.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { JOB_KINDS } from '../../src/jobs/job-kinds.ts';
import type { GatewayServices } from '../../src/requests/request-context.ts';

type Doc = {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, { enum?: string[] }> };
};
const checkedIn = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
const doc = parse(checkedIn) as Doc;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

describe('openapi.yaml, the REST contract', () => {
  it('is the printed form of the code (run `npm run openapi:print` after changing rest/)', () => {
    expect(printedOpenApi()).toBe(checkedIn);
  });

  it('is a valid OpenAPI 3.1 document (@readme/openapi-parser)', async () => {
    const result = await validate(structuredClone(openApiDocument()) as never);
    expect(result.valid ? [] : result.errors, 'validation errors').toEqual([]);
    expect(result.specification).toBe('OpenAPI');
    expect(doc).toMatchObject({ openapi: '3.1.0' });
  });

  it('every documented operation is served, and every served route is documented', () => {
    const services = { config: loadConfig({}), logger: { error() {} } } as unknown as GatewayServices;
    const app = createRestApp(services, () => {
      throw new Error('no request is served here');
    });
    const served = new Set(
      app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m} ${path}`),
      ),
    );
    // Served by the gateway itself (gateway/health.ts), outside /api/v1.
    for (const path of HEALTH_PATHS) documented.delete(`get ${path}`);
    expect([...served].sort()).toEqual([...documented].sort());
    expect(served.size).toBe(OPERATIONS.length);
    for (const key of served) expect(key.split(' ')[1]!.startsWith(API_BASE)).toBe(true);
  });

  it('operation ids are unique; every operation documents 400 and 500 problems, every 4xx/5xx answer is a problem', () => {
    const ids = OPERATIONS.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (HEALTH_PATHS.has(path)) continue;
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '500']));
        for (const [status, answer] of Object.entries(op.responses))
          if (Number(status) >= 400)
            expect(answer, `${method} ${path} ${status}`).toMatchObject({
              content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
            });
      }
    }
  });

  it('its enums are the closed vocabularies of src/', () => {
    expect(doc.components.schemas.ErrorCode?.enum?.sort()).toEqual(Object.values(ErrorCode).sort());
    expect(doc.components.schemas.JobKind?.enum?.sort()).toEqual([...JOB_KINDS].sort());
  });
});

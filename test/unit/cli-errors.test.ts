import { describe, expect, it } from 'vitest';
import {
  CliError,
  Exit,
  errorFromAnswer,
  exitCodeForJobState,
  exitCodeForStatus,
  formatError,
  unreachableError,
} from '../../cli/errors.ts';

/** Exit codes are the CLI's contract with scripts: each outcome maps to one, here and nowhere else. */
describe('exit codes', () => {
  it('maps HTTP statuses: 401/403 → 4, 429 and 5xx → 3, other 4xx → 2', () => {
    expect([400, 404, 409, 413, 415, 422].map(exitCodeForStatus)).toEqual([2, 2, 2, 2, 2, 2]);
    expect([401, 403].map(exitCodeForStatus)).toEqual([4, 4]);
    expect([429, 500, 502, 503, 504].map(exitCodeForStatus)).toEqual([3, 3, 3, 3, 3]);
  });

  it('maps job outcomes: SUCCEEDED → 0, FAILED and CANCELLED → 1', () => {
    expect(['SUCCEEDED', 'FAILED', 'CANCELLED'].map(exitCodeForJobState)).toEqual([0, 1, 1]);
    expect(Exit).toMatchObject({ OK: 0, JOB_FAILED: 1, USAGE: 2, UNREACHABLE: 3, UNAUTHORISED: 4, TIMED_OUT: 5 });
  });

  it('a problem+json refusal keeps its code, detail and fields', () => {
    const body = {
      type: 'urn:trunkline:error:UNKNOWN_HYPERVISOR',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'hypervisors.1: no hypervisor named "nosuch"',
      code: 'UNKNOWN_HYPERVISOR',
      errors: [
        { field: ['hypervisors', '1'], in: 'body', code: 'UNKNOWN_HYPERVISOR', message: 'hypervisors.1: no hypervisor named "nosuch"' },
      ],
    };
    const err = errorFromAnswer(422, body, 'PUT /vlans/1881');
    expect(err).toMatchObject({ exitCode: 2, code: 'UNKNOWN_HYPERVISOR', message: body.detail });
    err.flags = { hypervisors: '--hosts' };
    expect(formatError(err)).toEqual([
      'error: UNKNOWN_HYPERVISOR: hypervisors.1: no hypervisor named "nosuch"',
      '  field hypervisors.1 (body, --hosts): UNKNOWN_HYPERVISOR: no hypervisor named "nosuch"',
    ]);
  });

  it('401 and 403 say where a token comes from / what limits it', () => {
    const e401 = errorFromAnswer(
      401,
      { status: 401, code: 'UNAUTHENTICATED', detail: 'not a Trunkline API token (tl_<id>_<secret>)' },
      'GET /hypervisors',
    );
    expect(e401.exitCode).toBe(4);
    expect(formatError(e401).join('\n')).toMatch(/hint: give a token: --token, TRUNKLINE_TOKEN/);
    expect(errorFromAnswer(403, { code: 'FORBIDDEN', detail: 'no' }, 'x').exitCode).toBe(4);
  });

  it('a body that is no problem (a proxy page) still maps by status', () => {
    expect(errorFromAnswer(502, '<html>Bad gateway</html>', 'GET /x')).toMatchObject({
      exitCode: 3,
      code: 'BAD_ANSWER',
      message: 'GET /x: HTTP 502: <html>Bad gateway</html>',
    });
    expect(errorFromAnswer(404, '', 'GET /x')).toMatchObject({ exitCode: 2, code: 'HTTP_404' });
    expect(errorFromAnswer(503, { code: 'SERVICE_UNAVAILABLE', detail: 'Redis is unreachable' }, 'x').hints).toContain('retry later');
  });

  it('no answer at all is exit 3, naming the gateway and the cause', () => {
    const cause = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const err = unreachableError('http://127.0.0.1:9', cause);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      exitCode: 3,
      code: 'GATEWAY_UNREACHABLE',
      message: 'cannot reach the gateway at http://127.0.0.1:9: ECONNREFUSED',
    });
    expect(unreachableError('http://x', Object.assign(new Error('t'), { name: 'TimeoutError' })).message).toMatch(/no answer in time$/);
  });

  it('a field error for the whole body names it so', () => {
    const err = errorFromAnswer(
      400,
      { code: 'MALFORMED_BODY', detail: 'bad', errors: [{ field: [], in: 'body', code: 'MALFORMED_BODY', message: 'bad' }] },
      'x',
    );
    expect(formatError(err)[1]).toBe('  field (the whole body) (body): MALFORMED_BODY: bad');
  });
});

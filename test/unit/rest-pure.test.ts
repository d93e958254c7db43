import { describe, expect, it } from 'vitest';
import { pageOf } from '../../rest/operations/paging.ts';
import { problemFromUserErrors } from '../../rest/problem.ts';
import { inputError } from '../../src/changes/user-errors.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { canonicalJson, parseIdempotencyKey, requestFingerprint } from '../../src/requests/idempotency.ts';

describe('problems from userErrors', () => {
  it('invalid input is 400; each field keeps its path below the input and says where it is', () => {
    const p = problemFromUserErrors(
      [inputError(['hypervisors', '0'], ErrorCode.INVALID_INPUT, 'bad name'), inputError('tag', ErrorCode.INVALID_INPUT, 'too big')],
      { tag: 'tag' },
    );
    expect(p).toMatchObject({ status: 400, code: 'INVALID_INPUT', type: 'urn:trunkline:error:INVALID_INPUT', title: 'Bad Request' });
    expect(p.errors).toEqual([
      { field: ['hypervisors', '0'], in: 'body', code: 'INVALID_INPUT', message: 'hypervisors.0: bad name' },
      { field: ['tag'], in: 'path', code: 'INVALID_INPUT', message: 'tag: too big' },
    ]);
  });

  it('what the path names and does not exist is 404; in the body it is 422', () => {
    const unknown = inputError('hypervisor', ErrorCode.UNKNOWN_HYPERVISOR, 'no hypervisor named "x"');
    expect(problemFromUserErrors([unknown], { hypervisor: 'name' })).toMatchObject({
      status: 404,
      errors: [{ field: ['name'], in: 'path' }],
    });
    expect(problemFromUserErrors([unknown])).toMatchObject({ status: 422, errors: [{ field: ['hypervisor'], in: 'body' }] });
  });

  it("a refusal by the hosts' state is 409; other refusals of valid input 422", () => {
    expect(problemFromUserErrors([inputError('name', ErrorCode.IN_USE, 'used by vm-1')]).status).toBe(409);
    expect(problemFromUserErrors([inputError('name', ErrorCode.WOULD_TRUNK_ALL_VLANS, 'x')]).status).toBe(409);
    expect(problemFromUserErrors([inputError('nics', ErrorCode.DUPLICATE_MAC, 'x')]).status).toBe(422);
    expect(problemFromUserErrors([inputError('idempotencyKey', ErrorCode.IDEMPOTENCY_KEY_REUSED, 'x')]).status).toBe(422);
  });
});

describe('pages of cached lists', () => {
  const names = ['c', 'a', 'e', 'b', 'd'].map((name) => ({ name }));
  const key = (x: { name: string }) => x.name;

  it('walks the list in key order, page by page, to a null cursor', () => {
    const p1 = pageOf(names, { limit: 2 }, key);
    expect(p1).toEqual({ items: [{ name: 'a' }, { name: 'b' }], nextCursor: 'b' });
    const p2 = pageOf(names, { limit: 2, cursor: 'b' }, key);
    expect(p2).toEqual({ items: [{ name: 'c' }, { name: 'd' }], nextCursor: 'd' });
    expect(pageOf(names, { limit: 2, cursor: 'd' }, key)).toEqual({ items: [{ name: 'e' }], nextCursor: null });
  });

  it('an item that went away between pages moves nothing (keyset, not offsets)', () => {
    const without = names.filter((n) => n.name !== 'b');
    expect(pageOf(without, { limit: 2, cursor: 'b' }, key).items).toEqual([{ name: 'c' }, { name: 'd' }]);
  });
});

describe('idempotency keys', () => {
  it('accepts printable ASCII up to 255 characters, bare or as a structured-field string', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(parseIdempotencyKey('"ticket-42"')).toBe('ticket-42');
    expect(parseIdempotencyKey('')).toBeNull();
    expect(parseIdempotencyKey('a b')).toBeNull();
    expect(parseIdempotencyKey('é')).toBeNull();
    expect(parseIdempotencyKey('x'.repeat(256))).toBeNull();
  });

  it('the same request fingerprints the same whatever the key order; another operation or value does not', () => {
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: null })).toBe('{"a":null,"b":[1,{"c":3,"d":2}]}');
    const f = requestFingerprint('ensureVlan', { tag: 1001, hypervisors: ['hv1'] });
    expect(requestFingerprint('ensureVlan', { hypervisors: ['hv1'], tag: 1001 })).toBe(f);
    expect(requestFingerprint('removeVlan', { tag: 1001, hypervisors: ['hv1'] })).not.toBe(f);
    expect(requestFingerprint('ensureVlan', { tag: 1002, hypervisors: ['hv1'] })).not.toBe(f);
  });
});

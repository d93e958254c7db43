import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTs, stringValue, walk, type AstNode } from '../support/ts-source.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { AUDIT_OUTCOMES } from '../../src/audit/audit-entry.ts';
import { HOST_RUN_STATES, JOB_EVENT_TYPES, JOB_STATES, STEP_STATES } from '../../src/jobs/job-types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'graphql', 'rest', 'workers', 'gateway'];
const CODES_FILE = 'src/errors/codes.ts';
const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * Upper-case string literals that are not error codes: the job vocabularies (imported, so they
 * stay in step) and a few closed values of their own. Anything else upper-case is taken for an
 * error code and must be written ErrorCode.X.
 */
const NOT_ERROR_CODES: ReadonlySet<string> = new Set([
  ...JOB_STATES,
  ...STEP_STATES,
  ...HOST_RUN_STATES,
  ...JOB_EVENT_TYPES,
  // The audit log's outcomes (its UNAUTHENTICATED is also an error code: allowed below, in its files only)
  ...AUDIT_OUTCOMES.filter((o) => o !== 'UNAUTHENTICATED'),
  // RollbackRecord.state
  'NOT_POSSIBLE',
  // verify: what a ping must do
  'REACH',
  'ISOLATED',
  // HostStatus
  'REACHABLE',
  'UNREACHABLE',
  'UNKNOWN',
  // UplinkCarriage (its NO_UPLINK is also an error code: allowed below, in its files only)
  'TRUNKED',
  'TRUNKS_ALL',
  'ACCESS',
  'MISSING',
  // DriftKind
  'UPLINK_MISSING',
  'PORTGROUP_MISSING',
  'PORTGROUP_DIFFERS',
  'TRUNK_PORTGROUP_MISSING',
  'VM_PORT_TAG_DIFFERS',
  // awaitTurn's answer
  'TURN',
  // process signals, HTTP methods
  'SIGTERM',
  'SIGINT',
  'GET',
  'HEAD',
  // Redis command options
  'COUNT',
  'MINID',
  'MAXLEN',
  // Node's errno codes (system errors)
  'ENOENT',
  // X-Frame-Options
  'DENY',
  // HostAttemptOutcome
  'TAKEN_OVER',
  // Redis command words
  'LIMIT',
]);

/** Values that are both an error code and another vocabulary's member, allowed only in these files. */
const SHARED_WITH_ERROR_CODES: Readonly<Record<string, readonly string[]>> = {
  NO_UPLINK: ['src/fleet/vlans.ts', 'graphql/types/vlan.ts', 'rest/schemas/fleet.ts'], // UplinkCarriage
  UNAUTHENTICATED: ['src/audit/audit-entry.ts', 'rest/audit.ts', 'gateway/create-gateway.ts'], // AuditOutcome
  // HostAttemptOutcome; and the fenced host write's refusal, as its script returns it
  LOCK_LOST: ['src/jobs/job-types.ts', 'src/jobs/job-store.ts', 'workers/run-host-part.ts'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    return e.isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface Finding {
  file: string;
  line: number;
  text: string;
}

/** Upper-case string literals (not comments, not inside template text) and `as ErrorCode` casts. */
function findings(file: string, source: string): { literals: Finding[]; casts: Finding[] } {
  const parsed = parseTs(file, source);
  const literals: Finding[] = [];
  const casts: Finding[] = [];
  walk(parsed.program, (n) => {
    const text = stringValue(n);
    if (text !== null && /^[A-Z][A-Z0-9_]{2,}$/.test(text)) literals.push({ file, line: parsed.lineOf(n.start), text });
    if (n.type === 'TSAsExpression' && parsed.text(n.typeAnnotation as AstNode) === 'ErrorCode')
      casts.push({ file, line: parsed.lineOf(n.start), text: parsed.text(n) });
  });
  return { literals, casts };
}

function bareCodes(file: string, source: string): string[] {
  const { literals, casts } = findings(file, source);
  const bare = literals.filter((f) =>
    CODES.has(f.text) ? !SHARED_WITH_ERROR_CODES[f.text]?.includes(file) : !NOT_ERROR_CODES.has(f.text),
  );
  return [...bare, ...casts].map((f) => `${f.file}:${f.line}: ${f.text}`);
}

describe('error codes are a closed vocabulary', () => {
  it('every ErrorCode value equals its key', () => {
    for (const [key, value] of Object.entries(ErrorCode)) expect(value).toBe(key);
  });

  it('no allow-listed word is an error code (except the listed shared ones)', () => {
    expect([...NOT_ERROR_CODES].filter((w) => CODES.has(w))).toEqual([]);
    for (const w of Object.keys(SHARED_WITH_ERROR_CODES)) expect(CODES.has(w)).toBe(true);
  });

  it(`src/, graphql/, rest/, workers/ and gateway/ write codes as ErrorCode.X: no bare upper-case literal outside ${CODES_FILE}`, () => {
    const files = SCANNED.flatMap(tsFiles).filter((f) => f !== CODES_FILE);
    expect(files.length).toBeGreaterThan(50);
    const bare = files.flatMap((f) => bareCodes(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(bare, 'use ErrorCode.X (add the code to src/errors/codes.ts), or allow-list a word that is no error code').toEqual([]);
  });

  it('the scan catches a bare code, an unknown upper-case word and a cast, but not comments or template text', () => {
    const source = [
      `const a = { code: 'IN_USE', message: 'x' };`,
      `const b = { code: "SOMETHING_NEW" };`,
      `const c = 'NEW_CODE' as ErrorCode;`,
      `// 'COMMENTED_OUT'`,
      "const lua = `redis.call('XADD', KEYS[1])`;",
      `const d = 'SUCCEEDED';`,
      `const e = 'NO_UPLINK';`,
    ].join('\n');
    expect(bareCodes('src/example.ts', source)).toEqual([
      'src/example.ts:1: IN_USE',
      'src/example.ts:2: SOMETHING_NEW',
      'src/example.ts:3: NEW_CODE',
      'src/example.ts:7: NO_UPLINK',
      "src/example.ts:3: 'NEW_CODE' as ErrorCode",
    ]);
  });
});

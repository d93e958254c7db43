import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTs, stringValue, walk, type AstNode } from '../support/ts-source.ts';

/**
 * The layering of docs/architecture.md, enforced: every import arrow of the application points
 * down. The processes (`gateway/`, `workers/`) sit above `graphql/` and `src/`; `src/` imports
 * nothing above it; `graphql/` and `workers/` do not know each other; the pure core runs no
 * commands and touches no Redis or queue. Type-only imports count: they are arrows too.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'graphql', 'rest', 'workers', 'gateway', 'cli', 'ui', 'bench'] as const;

/** Which top-level folders each folder's files may import (packages are checked below). */
const ZONES: Readonly<Record<string, readonly string[]>> = {
  src: ['src'],
  graphql: ['src', 'graphql'],
  rest: ['src', 'rest'],
  workers: ['src', 'workers'],
  gateway: ['src', 'graphql', 'rest', 'gateway'],
  // Clients of the public API: the CLI knows the REST answers' schemas (type-only imports) and the
  // error codes, nothing that connects to Redis or hosts; the browser UI knows nothing of the server.
  // Both read SSE with one parser of no imports (src/sse).
  cli: ['cli', 'src/errors', 'src/sse', 'rest/schemas'],
  ui: ['ui', 'src/sse'],
  // Benchmarks drive the whole application and reuse the test harness (lab, Redis, processes).
  bench: ['src', 'graphql', 'rest', 'workers', 'gateway', 'bench', 'test/support'],
};

/** Folders that run no commands, hold no connections and queue nothing. */
const PURE = ['src/changes', 'src/fleet', 'src/ovs', 'src/libvirt', 'src/validation'];

/** What pure code may not import: the ssh2 pool (take the types from src/ssh/runner.ts), Redis, jobs, I/O packages. */
const NOT_FOR_PURE_MODULES = ['src/ssh/ssh-pool.ts', 'src/redis/', 'src/jobs/'];
const NOT_FOR_PURE_PACKAGES = ['node:child_process', 'child_process', 'ssh2', 'ioredis', 'bullmq'];

/** The few exceptions, each a module of types and constants with no imports of its own. */
const PURE_MAY_IMPORT: readonly string[] = [
  'src/jobs/job-kinds.ts', // the closed vocabulary of job kinds: plans and planners are keyed by it
];

/** The gateway holds no keys and runs no commands: nothing it loads, however indirectly, reaches SSH. */
const NO_SSH_FROM = ['gateway/main.ts'];
const SSH_MODULES = ['src/ssh/ssh-pool.ts'];
const SSH_PACKAGES = ['ssh2', 'node:child_process', 'child_process'];

interface Import {
  file: string;
  line: number;
  specifier: string;
  /** Repo-relative path for a relative specifier; null for a package. */
  target: string | null;
  /** The package name (`node:fs`, `@pothos/core`, `graphql-ws`) for a bare specifier. */
  pkg: string | null;
}

function tsFiles(dir: string): string[] {
  return readdirSync(posix.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    return e.isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier.split('/')[0]!;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every module a file names: import/export … from, side-effect imports, import(), import x = require(), import('…') types. */
function importsOf(file: string, source: string): Import[] {
  const parsed = parseTs(file, source);
  const found: Import[] = [];
  const add = (node: AstNode, spec: unknown) => {
    const specifier = stringValue(spec);
    if (specifier === null) return;
    const relative = specifier.startsWith('.');
    found.push({
      file,
      line: parsed.lineOf(node.start),
      specifier,
      target: relative ? posix.normalize(posix.join(posix.dirname(file), specifier)) : null,
      pkg: relative ? null : packageName(specifier),
    });
  };
  walk(parsed.program, (n) => {
    switch (n.type) {
      case 'ImportDeclaration':
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration':
      case 'ImportExpression':
      case 'TSImportType':
        add(n, n.source);
        break;
      case 'TSExternalModuleReference':
        add(n, n.expression);
        break;
      case 'CallExpression': {
        const callee = n.callee as AstNode;
        if (callee.type === 'Identifier' && callee.name === 'require') add(n, (n.arguments as unknown[])[0]);
      }
    }
  });
  return found;
}

const within = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
const zoneOf = (path: string) => SCANNED.find((z) => within(path, z));

/** The wrong-way arrows among `files` (repo-relative path → source), one line each. */
function layeringViolations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  const graph = new Map<string, Import[]>();
  for (const [file, source] of files) {
    const imports = importsOf(file, source);
    graph.set(file, imports);
    const zone = zoneOf(file);
    if (!zone) {
      out.push(`${file}: not in a zone (${SCANNED.join(', ')})`);
      continue;
    }
    const pure = PURE.some((p) => within(file, p));
    for (const imp of imports) {
      const where = `${imp.file}:${imp.line}: '${imp.specifier}'`;
      if (imp.target !== null) {
        if (!ZONES[zone]!.some((z) => within(imp.target!, z)))
          out.push(`${where}: ${zone}/ may import only ${ZONES[zone]!.map((z) => `${z}/`).join(', ')}`);
        if (pure && !PURE_MAY_IMPORT.includes(imp.target) && NOT_FOR_PURE_MODULES.some((m) => within(imp.target!, m) || imp.target === m))
          out.push(`${where}: pure code (${PURE.join(', ')}) may not import ${NOT_FOR_PURE_MODULES.join(', ')}`);
      } else if (pure && NOT_FOR_PURE_PACKAGES.includes(imp.pkg!)) {
        out.push(`${where}: pure code (${PURE.join(', ')}) may not import ${NOT_FOR_PURE_PACKAGES.join(', ')}`);
      }
    }
  }
  // Transitive: what the gateway loads never reaches SSH.
  for (const start of NO_SSH_FROM.filter((f) => files.has(f))) {
    const via = new Map<string, string[]>([[start, [start]]]);
    const queue = [start];
    while (queue.length) {
      const file = queue.shift()!;
      for (const imp of graph.get(file) ?? []) {
        const chain = [...via.get(file)!, imp.target ?? imp.pkg!];
        if ((imp.target !== null && SSH_MODULES.includes(imp.target)) || (imp.pkg !== null && SSH_PACKAGES.includes(imp.pkg)))
          out.push(`${start} reaches SSH: ${chain.join(' → ')} (${imp.file}:${imp.line})`);
        else if (imp.target !== null && files.has(imp.target) && !via.has(imp.target)) {
          via.set(imp.target, chain);
          queue.push(imp.target);
        }
      }
    }
  }
  return out;
}

describe('layering: import arrows point down', () => {
  it('src/, graphql/, rest/, workers/, gateway/, cli/, ui/ and bench/ import only what their zone allows', () => {
    const files = new Map(SCANNED.flatMap(tsFiles).map((f) => [f, readFileSync(posix.join(ROOT, f), 'utf8')] as const));
    expect(files.size).toBeGreaterThan(100);
    expect([...files.keys()].filter((f) => f.startsWith('gateway/'))).toContain('gateway/main.ts');
    expect(
      layeringViolations(files),
      'an import points the wrong way (see the zones in test/unit/layering.test.ts and docs/architecture.md)',
    ).toEqual([]);
  });

  it('each exception imports nothing itself and is still used by pure code', () => {
    const pureImports = PURE.flatMap(tsFiles).flatMap((f) => importsOf(f, readFileSync(posix.join(ROOT, f), 'utf8')));
    for (const f of PURE_MAY_IMPORT) {
      expect(importsOf(f, readFileSync(posix.join(ROOT, f), 'utf8')), f).toEqual([]);
      expect(
        pureImports.some((i) => i.target === f),
        `${f} is no longer imported by pure code: drop the exception`,
      ).toBe(true);
    }
  });

  it('reports every kind of wrong arrow in a fake tree, and none of the right ones', () => {
    const files = new Map([
      [
        'src/changes/fake.ts',
        [
          "import type { ExecResult } from '../ssh/ssh-pool.ts';",
          "import type { Redis } from 'ioredis';",
          "import { spawn } from 'node:child_process';",
          "import { JobStore } from '../jobs/job-store.ts';",
          "import type { JobKind } from '../jobs/job-kinds.ts';",
          "import type { CommandRunner } from '../ssh/runner.ts';",
        ].join('\n'),
      ],
      [
        'src/hosts/fake.ts',
        [
          "import { schema } from '../../graphql/schema.ts';",
          "export { x } from '../../workers/main.ts';",
          "const m = await import('../../gateway/main.ts');",
        ].join('\n'),
      ],
      ['graphql/fake.ts', ["import '../workers/main.ts';", "import { ChangeQueue } from '../src/jobs/change-queue.ts';"].join('\n')],
      [
        'workers/fake.ts',
        ["type S = import('../graphql/schema.ts').Schema;", "import { SshPool } from '../src/ssh/ssh-pool.ts';"].join('\n'),
      ],
      ['gateway/main.ts', ["import { createContext } from '../graphql/context.ts';", "import { x } from './helper.ts';"].join('\n')],
      ['gateway/helper.ts', "import { readHostState } from '../src/hosts/fake.ts';"],
      ['graphql/context.ts', "import { SshPool } from '../src/ssh/ssh-pool.ts';"],
    ]);
    expect(layeringViolations(files)).toEqual([
      "src/changes/fake.ts:1: '../ssh/ssh-pool.ts': pure code (src/changes, src/fleet, src/ovs, src/libvirt, src/validation) may not import src/ssh/ssh-pool.ts, src/redis/, src/jobs/",
      "src/changes/fake.ts:2: 'ioredis': pure code (src/changes, src/fleet, src/ovs, src/libvirt, src/validation) may not import node:child_process, child_process, ssh2, ioredis, bullmq",
      "src/changes/fake.ts:3: 'node:child_process': pure code (src/changes, src/fleet, src/ovs, src/libvirt, src/validation) may not import node:child_process, child_process, ssh2, ioredis, bullmq",
      "src/changes/fake.ts:4: '../jobs/job-store.ts': pure code (src/changes, src/fleet, src/ovs, src/libvirt, src/validation) may not import src/ssh/ssh-pool.ts, src/redis/, src/jobs/",
      "src/hosts/fake.ts:1: '../../graphql/schema.ts': src/ may import only src/",
      "src/hosts/fake.ts:2: '../../workers/main.ts': src/ may import only src/",
      "src/hosts/fake.ts:3: '../../gateway/main.ts': src/ may import only src/",
      "graphql/fake.ts:1: '../workers/main.ts': graphql/ may import only src/, graphql/",
      "workers/fake.ts:1: '../graphql/schema.ts': workers/ may import only src/, workers/",
      'gateway/main.ts reaches SSH: gateway/main.ts → graphql/context.ts → src/ssh/ssh-pool.ts (graphql/context.ts:1)',
    ]);
  });
});

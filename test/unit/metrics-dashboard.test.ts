import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schema } from '../../graphql/schema.ts';
import { API_BASE } from '../../rest/replies.ts';
import { createGatewayMetrics } from '../../src/metrics/gateway.ts';
import { webhookRegistry } from '../../src/metrics/webhooks.ts';
import { workerRegistry } from '../../src/metrics/worker.ts';

/**
 * The Grafana dashboard (infra/grafana/trunkline-dashboard.json) queries metrics that exist: every
 * metric name in every panel's PromQL is one a gateway, a worker or a webhook process registers
 * (histograms by their _bucket/_sum/_count series); the expressions parse (promtool check rules,
 * when installed); docs/metrics.md names every metric.
 */

const ROOT = new URL('../../', import.meta.url);
const dashboard = JSON.parse(readFileSync(new URL('infra/grafana/trunkline-dashboard.json', ROOT), 'utf8')) as {
  uid: string;
  panels: Array<{ id: number; type: string; title: string; targets?: Array<{ expr: string; datasource?: { uid: string } }> }>;
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Every metric each process registers, with its type. */
function registered(): Map<string, string> {
  const gateway = createGatewayMetrics({ restRoutes: [], restBase: API_BASE });
  gateway.plugins(schema);
  const out = new Map<string, string>();
  for (const r of [gateway.registry, workerRegistry, webhookRegistry])
    for (const m of r.getMetricsAsArray()) out.set((m as unknown as { name: string }).name, (m as unknown as { type: string }).type);
  return out;
}
const METRICS = registered();

const FUNCTIONS_AND_KEYWORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'clamp_min',
  'clamp_max',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'abs',
  'topk',
  'bottomk',
  'delta',
  'deriv',
  'time',
  'vector',
  'scalar',
  'label_replace',
  'absent',
  'le',
  'inf',
  'nan',
]);

/** The metric names an expression selects: identifiers outside strings, label matchers, grouping lists and ranges, not functions. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/(?<![\w:])\d+(\.\d+)?(e[+-]?\d+)?/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function call
    if (FUNCTIONS_AND_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Whether `name` is a series of a registered metric (a histogram's _bucket, _sum, _count; a summary's _sum, _count). */
function exists(name: string): boolean {
  if (METRICS.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = METRICS.get(m[1]!);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}

describe('the Grafana dashboard', () => {
  it('is a dashboard: a uid, panels with unique ids, each with a PromQL query on the datasource variable', () => {
    expect(dashboard.uid).toBe('trunkline');
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    expect(panels.length).toBeGreaterThan(20);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        expect(t.expr.trim(), p.title).not.toBe('');
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template
        expect(t.datasource?.uid, p.title).toBe('${datasource}');
      }
    }
  });

  it('the name reader finds metric names and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, host) (rate(trunkline_ssh_round_trip_seconds_bucket{host=~"hv.*"}[$__rate_interval])))',
      ),
    ).toEqual(['trunkline_ssh_round_trip_seconds_bucket']);
    expect(metricNames('sum(a_total) / clamp_min(sum(rate(b_total[5m])), 1e-9) and on (x) c * 2.5')).toEqual(['a_total', 'b_total', 'c']);
    expect(metricNames('max by (state) (q{queue="changes",state=~"waiting|active"})')).toEqual(['q']);
  });

  it('every metric it queries is registered by the gateway, the worker or the webhook process', () => {
    const used = new Map<string, string[]>();
    for (const { panel, expr } of exprs) for (const n of metricNames(expr)) used.set(n, [...(used.get(n) ?? []), panel]);
    expect(used.size).toBeGreaterThan(25);
    const missing = [...used].filter(([n]) => !exists(n)).map(([n, p]) => `${n} (${p.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('every Trunkline metric is on the dashboard', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricNames(expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const ours = [...METRICS.keys()].filter((n) => n.startsWith('trunkline_'));
    // Each is shown, by itself or through its histogram's series.
    expect(ours.filter((n) => !used.has(n))).toEqual([]);
  });

  it.skipIf(spawnSync('promtool', ['--version']).status !== 0)('every expression parses (promtool check rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trunkline-dashboard-'));
    try {
      const rules = exprs.map(
        ({ expr }, i) =>
          `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h'))}`,
      );
      const file = join(dir, 'rules.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/metrics.md', () => {
  const doc = readFileSync(new URL('docs/metrics.md', ROOT), 'utf8');

  it('names every metric Trunkline defines (the process metrics by their prefixes)', () => {
    const ours = [...METRICS.keys()].filter((n) => !n.startsWith('process_') && !n.startsWith('nodejs_'));
    expect(ours.length).toBeGreaterThan(30);
    expect(ours.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  it('shows the dashboard and the settings', () => {
    for (const s of [
      'infra/grafana/trunkline-dashboard.json',
      'TRUNKLINE_METRICS_PUBLIC',
      'TRUNKLINE_WORKER_METRICS_PORT',
      'TRUNKLINE_WORKER_METRICS_HOST',
      'TRUNKLINE_WEBHOOK_METRICS_PORT',
      'scrape_configs',
      'ticketRef',
    ])
      expect(doc).toContain(s);
  });
});

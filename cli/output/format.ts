import { stringify } from 'yaml';
import { usageError } from '../errors.ts';
import type { Paint } from './style.ts';
import { type Column, cellText, cellValue, col, pathValue, renderFields, renderTable } from './table.ts';

/*
 * Every command's answer goes through here: `-o json` and `-o yaml` print the API's data as it
 * came (what scripts rely on), `-o table` aligned columns or the command's own text (plans,
 * jobs), `-o value` the plain values of the columns `-c` selects (OpenStack CLI style: one row a
 * line, columns separated by a space; for one object, one value a line).
 */

export const FORMATS = ['table', 'json', 'yaml', 'value'] as const;
export type Format = (typeof FORMATS)[number];

export interface OutputOptions {
  format: Format;
  /** -c COLUMN, in order (empty: every column). */
  columns: readonly string[];
  paint: Paint;
}

export interface Result {
  /** What json/yaml print: the API's answer. */
  data: unknown;
  /** A list's rows, or… */
  rows?: readonly unknown[];
  /** …one object. */
  row?: unknown;
  columns: readonly Column[];
  /** The table form when it is more than columns (a plan, a job); used unless -c selects columns. */
  text?: (paint: Paint) => string;
}

/** The columns -c names: by key or header (case-insensitive), else any dotted path the data has. */
export function selectColumns(columns: readonly Column[], names: readonly string[], sample: readonly unknown[]): Column[] {
  if (names.length === 0) return [...columns];
  return names.map((name) => {
    const lower = name.toLowerCase();
    const known = columns.find((c) => c.key.toLowerCase() === lower || c.header.toLowerCase() === lower);
    if (known) return known;
    if (sample.some((row) => pathValue(row, name) !== undefined)) return col(name);
    throw usageError(`unknown column "${name}"`, [
      `columns: ${columns.map((c) => c.key).join(', ')} (or a field path of -o json, e.g. a.b)`,
    ]);
  });
}

export function render(result: Result, opts: OutputOptions): string {
  if (opts.format === 'json') return `${JSON.stringify(result.data, null, 2)}\n`;
  if (opts.format === 'yaml') return stringify(result.data, { lineWidth: 0 });
  const sample = result.rows ?? (result.row !== undefined ? [result.row] : []);
  const columns = selectColumns(result.columns, opts.columns, sample);
  if (opts.format === 'value') {
    if (result.rows) return result.rows.map((r) => `${columns.map((c) => cellText(cellValue(c, r))).join(' ')}\n`).join('');
    return columns.map((c) => `${cellText(cellValue(c, result.row))}\n`).join('');
  }
  if (result.text && opts.columns.length === 0) return result.text(opts.paint);
  if (result.rows) return renderTable(columns, result.rows, opts.paint);
  return renderFields(columns, result.row, opts.paint);
}

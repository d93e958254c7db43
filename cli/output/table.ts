import { type Paint, paintState } from './style.ts';

/*
 * Columns and aligned tables. A column reads a value from an API object (by its key, a dotted
 * path, unless it has a getter); the same columns serve `-o table` (aligned, coloured) and
 * `-o value -c KEY` (plain values), so what a script selects is what a person sees.
 */

export interface Column {
  /** What -c selects (case-insensitive), e.g. `name`, `defaults.bridge`. */
  key: string;
  header: string;
  get?: (row: unknown) => unknown;
  /** Colour the value as a state word (SUCCEEDED green, FAILED red, …). */
  state?: boolean;
}

/** A column whose header is the key in upper case (`observedAt` → OBSERVED_AT); `get` reads a row of type T. */
export function col<T = unknown>(key: string, opts: { header?: string; get?: (row: T) => unknown; state?: boolean } = {}): Column {
  return { key, header: opts.header ?? headerOf(key), get: opts.get as Column['get'], state: opts.state };
}

export const headerOf = (key: string) => (key.split('.').at(-1) ?? key).replace(/([a-z0-9])([A-Z])(?=[a-z])/g, '$1_$2').toUpperCase();

/** The value at a dotted path (`defaults.bridge`, `hosts.0.state`), or undefined. */
export function pathValue(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export const cellValue = (column: Column, row: unknown): unknown => (column.get ? column.get(row) : pathValue(row, column.key));

/** A value as one line of text: lists comma-joined, null/undefined empty, objects as compact JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\r?\n/g, ' ');
}

/** Display width of plain text (no escapes): code points, which is what these tables hold. */
const width = (s: string) => [...s].length;

function pad(text: string, painted: string, to: number): string {
  return painted + ' '.repeat(Math.max(0, to - width(text)));
}

/** An aligned table: a header line, then one line per row; two spaces between columns. */
export function renderTable(columns: readonly Column[], rows: readonly unknown[], paint: Paint): string {
  const texts = rows.map((r) => columns.map((c) => cellText(cellValue(c, r))));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...texts.map((t) => width(t[i]!))));
  const line = (cells: string[], painted: string[]) =>
    cells
      .map((t, i) => (i === cells.length - 1 ? painted[i]! : pad(t, painted[i]!, widths[i]!)))
      .join('  ')
      .trimEnd();
  const head = columns.map((c) => c.header);
  const out = [
    line(
      head,
      head.map((h) => paint('bold', h)),
    ),
  ];
  for (const t of texts)
    out.push(
      line(
        t,
        t.map((text, i) => (columns[i]!.state ? paintState(paint, text) : text)),
      ),
    );
  return `${out.join('\n')}\n`;
}

/** One object as FIELD VALUE lines (the `show` commands). */
export function renderFields(columns: readonly Column[], obj: unknown, paint: Paint): string {
  const keyWidth = Math.max(...columns.map((c) => width(c.key)));
  const lines = columns.map((c) => {
    const text = cellText(cellValue(c, obj));
    return `${pad(c.key, paint('bold', c.key), keyWidth)}  ${c.state ? paintState(paint, text) : text}`.trimEnd();
  });
  return `${lines.join('\n')}\n`;
}

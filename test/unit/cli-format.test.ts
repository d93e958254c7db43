import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HOST_COLUMNS } from '../../cli/output/columns.ts';
import { render, selectColumns } from '../../cli/output/format.ts';
import { colorEnabled, painter } from '../../cli/output/style.ts';
import { cellText, col, headerOf, renderFields, renderTable } from '../../cli/output/table.ts';

const plain = painter(false);
const rows = [
  { name: 'hv1', status: 'REACHABLE', defaults: { bridge: 'ovsbr0' }, trunks: [1001, 1002], note: null },
  { name: 'hv-long-name', status: 'UNREACHABLE', defaults: { bridge: 'br-int' }, trunks: [], note: 'a\nb' },
];
const columns = [col('name'), col('status', { state: true }), col('defaults.bridge'), col('trunks')];

describe('tables', () => {
  it('aligns columns on the widest cell, two spaces apart, no trailing blanks', () => {
    expect(renderTable(columns, rows, plain)).toBe(
      [
        'NAME          STATUS       BRIDGE  TRUNKS',
        'hv1           REACHABLE    ovsbr0  1001,1002',
        'hv-long-name  UNREACHABLE  br-int',
        '',
      ].join('\n'),
    );
  });

  it('colours the header and state columns without breaking the alignment', () => {
    const coloured = renderTable(columns, rows, painter(true));
    expect(coloured).toContain('\u001b[32mREACHABLE\u001b[39m    ovsbr0');
    expect(coloured).toContain('\u001b[31mUNREACHABLE\u001b[39m  br-int');
    expect(stripVTControlCharacters(coloured)).toBe(renderTable(columns, rows, plain));
  });

  it('one object as FIELD VALUE lines', () => {
    expect(renderFields(columns, rows[0], plain)).toBe(
      'name             hv1\nstatus           REACHABLE\ndefaults.bridge  ovsbr0\ntrunks           1001,1002\n',
    );
  });

  it('cells: lists comma-joined, null empty, objects as JSON, newlines flattened', () => {
    expect([cellText(null), cellText(undefined), cellText([1, 2]), cellText({ a: 1 }), cellText('a\nb'), cellText(false)]).toEqual([
      '',
      '',
      '1,2',
      '{"a":1}',
      'a b',
      'false',
    ]);
    expect([headerOf('observedAt'), headerOf('counts.vms'), headerOf('memoryMiB')]).toEqual(['OBSERVED_AT', 'VMS', 'MEMORY_MIB']);
  });
});

describe('output formats', () => {
  const list = { data: rows, rows, columns };
  const one = { data: rows[0], row: rows[0], columns };

  it('json and yaml print the data as the API answered it', () => {
    expect(JSON.parse(render(list, { format: 'json', columns: ['name'], paint: plain }))).toEqual(rows);
    expect(render(one, { format: 'yaml', columns: [], paint: plain })).toBe(
      'name: hv1\nstatus: REACHABLE\ndefaults:\n  bridge: ovsbr0\ntrunks:\n  - 1001\n  - 1002\nnote: null\n',
    );
  });

  it('value: one row a line, the -c columns space-separated; one object: one value a line', () => {
    expect(render(list, { format: 'value', columns: ['name', 'STATUS'], paint: plain })).toBe('hv1 REACHABLE\nhv-long-name UNREACHABLE\n');
    expect(render(list, { format: 'value', columns: [], paint: plain })).toBe(
      'hv1 REACHABLE ovsbr0 1001,1002\nhv-long-name UNREACHABLE br-int \n',
    );
    expect(render(one, { format: 'value', columns: ['name'], paint: plain })).toBe('hv1\n');
  });

  it('-c takes a column key, its header, or any field path of the data; anything else is a usage error', () => {
    expect(selectColumns(HOST_COLUMNS, ['counts.vms', 'VMS', 'Name'], []).map((c) => c.key)).toEqual(['counts.vms', 'counts.vms', 'name']);
    expect(selectColumns(columns, ['defaults.bridge', 'note'], rows).map((c) => c.key)).toEqual(['defaults.bridge', 'note']);
    expect(() => selectColumns(columns, ['nope'], rows)).toThrow(/unknown column "nope"/);
    try {
      selectColumns(columns, ['nope'], rows);
    } catch (err) {
      expect(err).toMatchObject({ exitCode: 2 });
    }
  });

  it("table uses a command's own text unless -c picks columns", () => {
    const withText = { ...one, text: () => 'custom\n' };
    expect(render(withText, { format: 'table', columns: [], paint: plain })).toBe('custom\n');
    expect(render(withText, { format: 'table', columns: ['name'], paint: plain })).toBe('name  hv1\n');
  });
});

describe('colour', () => {
  const tty = { isTTY: true, hasColors: () => true };
  it('only on a terminal that has colours, never with NO_COLOR, always with FORCE_COLOR (unless 0)', () => {
    expect(colorEnabled({}, tty)).toBe(true);
    expect(colorEnabled({}, { isTTY: false })).toBe(false);
    expect(colorEnabled({}, { isTTY: true, hasColors: () => false })).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1' }, tty)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '' }, tty)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '1' }, { isTTY: false })).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '0' }, tty)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1', FORCE_COLOR: '1' }, tty)).toBe(false);
  });
});

/**
 * Decoding of OVSDB cells as `ovs-vsctl --format=json --data=json` prints them.
 * A set of one element may come as a bare atom, otherwise ["set",[...]]; maps are
 * ["map",[[k,v],...]]; uuids ["uuid","..."] (docs/lab.md, "Semantics that bite").
 */
import { ErrorCode, TrunklineError } from '../errors/codes.ts';

export type OvsAtom = string | number | boolean;
export type OvsCell = OvsAtom | ['uuid' | 'named-uuid', string] | ['set', unknown[]] | ['map', [unknown, unknown][]];

export interface OvsTable {
  headings: string[];
  rows: Record<string, unknown>[];
}

function isTagged(cell: unknown, tag: string): cell is [string, unknown] {
  return Array.isArray(cell) && cell.length === 2 && cell[0] === tag;
}

function atom(cell: unknown): OvsAtom {
  if (isTagged(cell, 'uuid') || isTagged(cell, 'named-uuid')) return String(cell[1]);
  if (typeof cell === 'string' || typeof cell === 'number' || typeof cell === 'boolean') return cell;
  throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `unexpected OVSDB atom ${JSON.stringify(cell)}`);
}

/** Any cell as a list of atoms: [] for an empty set, [x] for a bare atom. */
export function cellSet(cell: unknown): OvsAtom[] {
  if (isTagged(cell, 'set')) {
    if (!Array.isArray(cell[1])) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `bad OVSDB set ${JSON.stringify(cell)}`);
    return cell[1].map(atom);
  }
  return [atom(cell)];
}

/** An optional scalar column (e.g. Port.tag): empty set → null. */
export function cellOptional(cell: unknown): OvsAtom | null {
  const values = cellSet(cell);
  if (values.length > 1) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `expected at most one value, got ${JSON.stringify(cell)}`);
  return values[0] ?? null;
}

export function cellString(cell: unknown): string {
  return String(atom(cell));
}

export function cellMap(cell: unknown): Record<string, string> {
  if (!isTagged(cell, 'map') || !Array.isArray(cell[1]))
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `expected an OVSDB map, got ${JSON.stringify(cell)}`);
  const out: Record<string, string> = {};
  for (const pair of cell[1] as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `bad map pair ${JSON.stringify(pair)}`);
    out[String(atom(pair[0]))] = String(atom(pair[1]));
  }
  return out;
}

/**
 * Splits the output of one ovs-vsctl run with several `list` commands into its tables
 * (one JSON document per line, in command order).
 */
export function parseOvsTables(stdout: string): OvsTable[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch {
        throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `ovs-vsctl printed non-JSON output: ${line.slice(0, 200)}`);
      }
      const { headings, data } = doc as { headings?: unknown; data?: unknown };
      if (!Array.isArray(headings) || !Array.isArray(data))
        throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `ovs-vsctl JSON without headings/data: ${line.slice(0, 200)}`);
      const names = headings.map(String);
      return {
        headings: names,
        rows: data.map((row: unknown) => {
          if (!Array.isArray(row) || row.length !== names.length)
            throw new TrunklineError(
              ErrorCode.UNEXPECTED_OUTPUT,
              `ovs-vsctl row does not match headings: ${JSON.stringify(row).slice(0, 200)}`,
            );
          return Object.fromEntries(names.map((n, i) => [n, row[i]]));
        }),
      };
    });
}

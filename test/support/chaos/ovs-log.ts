/**
 * Parsing `ovsdb-tool show-log -m conf.db` (Open vSwitch 3.1) and the host state the runner
 * reads with ovs-vsctl / virsh: pure functions, tested on output captured from a lab host.
 */

export interface OvsdbRecord {
  index: number;
  /** ms since the epoch (show-log prints UTC with ms). */
  at: number;
  /** The transaction comment (ovs-vsctl writes "ovs-vsctl (invoked by sudo): ARGV..."), or null. */
  comment: string | null;
  /** The table lines under the record ("table Port row "cp0" (9b93ad45) diff:"). */
  changes: string[];
}

const RECORD = /^record (\d+): (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(?: "(.*)")?\s*$/;

export function parseShowLog(text: string): OvsdbRecord[] {
  const out: OvsdbRecord[] = [];
  for (const line of text.split('\n')) {
    const m = RECORD.exec(line);
    if (m) {
      out.push({
        index: Number(m[1]),
        at: Date.parse(`${m[2]}T${m[3]}Z`),
        comment: m[4] === undefined ? null : m[4].replace(/\\"/g, '"').replace(/\\\\/g, '\\'),
        changes: [],
      });
    } else if (line.startsWith('  table ') && out.length) out.at(-1)!.changes.push(line.trim());
  }
  return out;
}

export const TRUNKLINE_COMMENT = 'ovs-vsctl (invoked by sudo): ';

/** The argv of a Trunkline transaction, joined by spaces as ovs-vsctl writes it; null for others. */
export function trunklineCommand(r: OvsdbRecord): string | null {
  return r.comment?.startsWith(TRUNKLINE_COMMENT) ? r.comment.slice(TRUNKLINE_COMMENT.length) : null;
}

/** Splits a POSIX shell word list ('single', "double", \ escapes) as the host's shell would. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in ${command}`);
      cur += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      while (i < command.length && command[i] !== '"') {
        if (command[i] === '\\' && i + 1 < command.length) i++;
        cur += command[i];
        i++;
      }
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      cur += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The words of a step's shell command when it runs `tool`; null for another tool or no command. */
export function commandWords(command: string | null | undefined, tool: string): string[] | null {
  if (!command) return null;
  let words: string[];
  try {
    words = shellWords(command);
  } catch {
    return null;
  }
  return words[0] === tool ? words : null;
}

/** A step's change command (as the host shell receives it) in the form of its OVSDB comment; null if it is not ovs-vsctl. */
export function stepCommandKey(command: string | null | undefined): string | null {
  return commandWords(command, 'ovs-vsctl')?.join(' ') ?? null;
}

/** `ovs-vsctl --format=csv --data=bare --no-headings --columns=name,tag,trunks list Port` → name → value. */
export function parsePortsCsv(text: string): Map<string, { tag: number | null; trunks: number[] }> {
  const out = new Map<string, { tag: number | null; trunks: number[] }>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const cells: string[] = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '"') {
        if (q && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = !q;
      } else if (c === ',' && !q) {
        cells.push(cur);
        cur = '';
      } else cur += c;
    }
    cells.push(cur);
    const [name, tag, trunks] = cells;
    if (!name) continue;
    out.set(name, {
      tag: tag ? Number(tag) : null,
      trunks: (trunks ?? '')
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b),
    });
  }
  return out;
}

/** Portgroups of a network's XML: name → VLAN tags (sorted). */
export function parsePortgroups(xml: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const re = /<portgroup\s+name=['"]([^'"]+)['"][^>]*?(\/>|>([\s\S]*?)<\/portgroup>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const body = m[3] ?? '';
    const tags = [...body.matchAll(/<tag\s+id=['"](\d+)['"]/g)].map((t) => Number(t[1])).sort((a, b) => a - b);
    out.set(m[1]!, tags);
  }
  return out;
}

import { InvalidArgumentError } from 'commander';

/*
 * Parsers of option and argument values (commander's argParser): each turns the text into what
 * the REST body wants, or throws InvalidArgumentError, which commander reports naming the option
 * (exit 2). Only the form is checked here; the gateway validates the rest and names the field.
 */

const fail = (message: string): never => {
  throw new InvalidArgumentError(message);
};

/** `a,b,c` → ['a', 'b', 'c'] (blanks dropped; at least one). */
export function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) fail('give at least one value (comma-separated)');
  return items;
}

/** Repeatable options: each occurrence adds to the list. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** An integer in [min, max]. */
export const parseIntIn =
  (min: number, max: number) =>
  (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) fail(`must be a whole number (${min}..${max})`);
    const n = Number(value);
    if (n < min || n > max) fail(`must be ${min}..${max}`);
    return n;
  };

export const parseVlanTag = (value: string): number => {
  if (!/^\d+$/.test(value.trim())) fail('a VLAN id is a number 1..4094');
  const n = Number(value);
  if (n < 1 || n > 4094) fail('a VLAN id is 1..4094');
  return n;
};

/** `1001,1002` or ranges `1001-1003` (each 1..4094); duplicates dropped, order kept. */
export function parseVlanList(value: string): number[] {
  const out: number[] = [];
  for (const part of parseList(value)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [parseVlanTag(range[1]!), parseVlanTag(range[2]!)];
      if (from > to) fail(`range ${part} runs backwards`);
      if (to - from >= 4094) fail(`range ${part} is too wide`);
      for (let t = from; t <= to; t++) out.push(t);
    } else out.push(parseVlanTag(part));
  }
  return [...new Set(out)];
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** A duration in seconds: `90`, `0.5`, `30s`, `2m`, `1h` (positive). */
export function parseSeconds(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) fail('a duration: seconds (90, 0.5) or with a unit (30s, 2m, 1h)');
  const seconds = Number(m![1]) * UNITS[m![2] ?? 's']!;
  if (!(seconds > 0)) fail('must be more than 0');
  return seconds;
}

/** When a token expires: an ISO date-time, or a duration from now (`90d`, `12h`, `30m`). */
export function parseExpiry(value: string, now = Date.now()): string {
  const rel = /^(\d+)(m|h|d)$/.exec(value.trim());
  if (rel) return new Date(now + Number(rel[1]) * UNITS[rel[2]!]! * 1000).toISOString();
  if (/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(value.trim()) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return fail('an ISO date-time (2027-01-31T00:00:00Z) or a duration from now (90d, 12h, 30m)');
}

export interface PortgroupSpec {
  name: string;
  vlanTags: number[];
  trunk: boolean;
  isDefault: boolean;
  nativeMode?: 'tagged' | 'untagged';
}

/**
 * A portgroup: `NAME[=TAGS][:trunk][:default][:native-tagged|:native-untagged]`, e.g.
 * `vlan-0001:default`, `vlan-1001=1001`, `vlan-all=1001,1002:trunk`.
 */
export function parsePortgroupSpec(value: string): PortgroupSpec {
  const [head, ...flags] = value.split(':');
  const [name, tags] = (head ?? '').split('=', 2) as [string, string | undefined];
  if (!name) fail('a portgroup is NAME[=TAGS][:trunk][:default][:native-tagged|:native-untagged]');
  const spec: PortgroupSpec = { name: name.trim(), vlanTags: tags ? parseVlanList(tags) : [], trunk: false, isDefault: false };
  for (const flag of flags) {
    if (flag === 'trunk') spec.trunk = true;
    else if (flag === 'default') spec.isDefault = true;
    else if (flag === 'native-tagged' || flag === 'native-untagged') spec.nativeMode = flag === 'native-tagged' ? 'tagged' : 'untagged';
    else fail(`unknown portgroup flag "${flag}" (trunk, default, native-tagged, native-untagged)`);
  }
  return spec;
}

export interface NicSpec {
  network?: string;
  portgroup?: string;
  mac?: string;
  model?: string;
}
const NIC_KEYS = ['network', 'portgroup', 'mac', 'model'] as const;

/** A VM NIC: `key=value,…` of network, portgroup, mac, model; a bare word is the portgroup (`vlan-1001`). */
export function parseNicSpec(value: string): NicSpec {
  const nic: NicSpec = {};
  for (const part of parseList(value)) {
    const eq = part.indexOf('=');
    if (eq === -1) {
      nic.portgroup = part;
      continue;
    }
    const key = part.slice(0, eq).trim();
    if (!(NIC_KEYS as readonly string[]).includes(key)) fail(`unknown NIC key "${key}" (${NIC_KEYS.join(', ')})`);
    nic[key as (typeof NIC_KEYS)[number]] = part.slice(eq + 1).trim();
  }
  return nic;
}

/** Removes keys whose value is undefined (what the flag did not set stays out of the body). */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

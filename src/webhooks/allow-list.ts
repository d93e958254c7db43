import { BlockList, isIP } from 'node:net';

/*
 * Where webhooks may go (SSRF guard). A webhook URL makes the worker send requests to a place a
 * client chose, from inside the fleet's network: without a guard, anyone who can register a
 * webhook can reach the metadata service, Redis or an admin interface next to the worker. So
 * destinations come from an allow-list (TRUNKLINE_WEBHOOK_ALLOWED_HOSTS) of hostnames
 * (`hooks.example.com`, `*.example.com`), addresses and CIDRs, checked at registration and again
 * for every attempt, against every address the name resolves to at that moment:
 *   - an address literal in the URL must be inside a listed address or CIDR;
 *   - a listed name may resolve to public addresses; an internal one (loopback, private,
 *     link-local, unique-local, CGNAT, multicast, …) must itself be listed, so a listed name
 *     whose DNS is turned towards the inside (DNS rebinding) is refused;
 *   - an unlisted name is allowed only when every address it resolves to is listed.
 */

export interface AllowList {
  /** Exact host names, lower case, without a trailing dot. */
  names: ReadonlySet<string>;
  /** `*.example.com` entries as `.example.com`: any name below it (not the name itself). */
  suffixes: readonly string[];
  /** Listed addresses and CIDRs. */
  ranges: BlockList;
  /** The entries as configured, for messages. */
  entries: readonly string[];
}

/** Addresses that are not on the public internet: reachable only when listed explicitly. */
const INTERNAL_RANGES: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];
const internal = new BlockList();
for (const [net, prefix, type] of INTERNAL_RANGES) internal.addSubnet(net, prefix, type);

const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `::ffff:127.0.0.1` → `127.0.0.1`, brackets off, lower case: one spelling per address. */
export function normalizeAddress(address: string): string {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  // The same in hex, as the URL parser writes it: ::ffff:7f00:1 is 127.0.0.1.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const [hi, lo] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return a;
}

const family = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 4 ? 'ipv4' : 'ipv6');

type Entry = { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string } | { kind: 'range'; net: string; prefix: number };

function parseEntry(raw: string): Entry | string {
  const entry = raw.trim().toLowerCase().replace(/\.$/, '');
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const net = normalizeAddress(entry.slice(0, slash));
    const bits = entry.slice(slash + 1);
    const max = isIP(net) === 4 ? 32 : isIP(net) === 6 ? 128 : 0;
    if (!max) return `"${raw}": not an address before the "/"`;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${raw}": the prefix length must be 0..${max}`;
    return { kind: 'range', net, prefix: Number(bits) };
  }
  const address = normalizeAddress(entry);
  if (isIP(address)) return { kind: 'range', net: address, prefix: isIP(address) === 4 ? 32 : 128 };
  if (entry.length > 253 || !HOST_NAME.test(entry)) return `"${raw}": not a host name, address or CIDR`;
  return entry.startsWith('*.') ? { kind: 'suffix', suffix: entry.slice(1) } : { kind: 'name', name: entry };
}

/** What is wrong with each bad entry (empty when all are fine): for the configuration check. */
export function allowListErrors(entries: readonly string[]): string[] {
  return entries.map(parseEntry).filter((e): e is string => typeof e === 'string');
}

/**
 * The allow-list from its entries (hostnames, `*.` wildcards, addresses, CIDRs).
 * @example parseAllowList(['127.0.0.0/8', '::1', 'localhost'])
 */
export function parseAllowList(entries: readonly string[]): AllowList {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const ranges = new BlockList();
  for (const raw of entries) {
    const e = parseEntry(raw);
    if (typeof e === 'string') throw new Error(`webhook allow-list entry ${e}`);
    if (e.kind === 'name') names.add(e.name);
    else if (e.kind === 'suffix') suffixes.push(e.suffix);
    else ranges.addSubnet(e.net, e.prefix, family(e.net));
  }
  return { names, suffixes, ranges, entries: [...entries] };
}

/** Whether an address is inside a listed address or CIDR. */
export function addressListed(list: AllowList, address: string): boolean {
  const a = normalizeAddress(address);
  return isIP(a) !== 0 && list.ranges.check(a, family(a));
}

/** Whether an address is not on the public internet (loopback, private, link-local, …). */
export function isInternalAddress(address: string): boolean {
  const a = normalizeAddress(address);
  return isIP(a) !== 0 && internal.check(a, family(a));
}

/** Whether a host name is listed, exactly or below a `*.` entry. */
export function nameListed(list: AllowList, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return list.names.has(name) || list.suffixes.some((s) => name.endsWith(s));
}

/** Resolves a host name to every address it has (dns.lookup with `all`, as connections do). */
export type Resolve = (host: string) => Promise<string[]>;

export type Verdict = { allowed: true; addresses: string[] } | { allowed: false; reason: string };

/**
 * Whether `host` (a URL's hostname: a name or an address literal) may be reached, judged on the
 * addresses `addresses` it resolved to (the same ones the connection then uses).
 */
export function judgeAddresses(list: AllowList, host: string, addresses: readonly string[]): Verdict {
  const literal = normalizeAddress(host);
  if (isIP(literal)) {
    return addressListed(list, literal)
      ? { allowed: true, addresses: [literal] }
      : { allowed: false, reason: `${literal} is not on the webhook allow-list (${list.entries.join(', ')})` };
  }
  if (addresses.length === 0) return { allowed: false, reason: `${host} resolves to no address` };
  const listedName = nameListed(list, host);
  const refused = addresses.filter((a) => !(addressListed(list, a) || (listedName && !isInternalAddress(a))));
  if (refused.length === 0) return { allowed: true, addresses: addresses.map(normalizeAddress) };
  return {
    allowed: false,
    reason: listedName
      ? `${host} resolves to internal address ${refused.join(', ')}, which is not on the webhook allow-list itself`
      : `${host} resolves to ${refused.join(', ')}, not on the webhook allow-list (${list.entries.join(', ')})`,
  };
}

/** Resolves `host` (unless it is an address) and judges every address it has. */
export async function checkHost(list: AllowList, host: string, resolve: Resolve): Promise<Verdict> {
  if (isIP(normalizeAddress(host))) return judgeAddresses(list, host, []);
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    return { allowed: false, reason: `${host} does not resolve: ${(err as Error).message}` };
  }
  return judgeAddresses(list, host, addresses);
}

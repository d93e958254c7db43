/**
 * Reading a host's whole libvirt state in two virsh invocations, however many domains and
 * networks it has: round 1 lists the UUIDs, round 2 dumps every object.
 *
 * Both rounds are ONE virsh argument holding `;`-separated commands (virsh's own batch mode;
 * it rejects `;` as a separate argv word). Each command's output is followed by `echo MARKER`,
 * so the output splits on marker lines. Facts checked on libvirt 9.0 (Debian 12), see
 * test/fixtures/capture-lab-fixtures.sh:
 * - virsh prints an extra empty line after every command except `echo`, and a command that
 *   fails prints only that empty line on stdout (its error goes to stderr) and the batch goes on.
 *   So an object that vanished between the rounds leaves whitespace-only sections.
 * - The exit code is the LAST command's: always 0 here (`echo`), even when some commands
 *   failed. Callers must not read a failed lookup from it.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import { parseDomainXml } from './domain-xml.ts';
import { parseNetInfo, parseNetworkXml } from './network-xml.ts';
import type { Domain, LibvirtNetwork, LibvirtVersions } from './types.ts';

export const VIRSH = ['virsh', '-c', 'qemu:///system'] as const;

/** libvirt prints UUIDs in this form only; anything else did not come from virsh. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MARKER_RE = /^::tl-[0-9a-f]{12}::$/;

/**
 * Linux refuses a single argv string longer than 128 KiB (MAX_ARG_STRLEN) with E2BIG, and over
 * SSH the whole quoted command line is one `sh -c` argument. Round 2 uses about 150 bytes per
 * object, so this allows roughly 800 domains + networks per host.
 */
export const MAX_BATCH_BYTES = 120 * 1024;

/**
 * A fresh separator line for one read. Random, so that nothing a VM owner can write into the
 * XML (a <description>, a <title>) can fake a section boundary.
 */
export function newMarker(): string {
  return `::tl-${randomBytes(6).toString('hex')}::`;
}

function checkMarker(marker: string): void {
  if (!MARKER_RE.test(marker)) throw new TrunklineError(ErrorCode.INTERNAL, `bad virsh batch marker ${JSON.stringify(marker)}`);
}

function batchArgv(commands: string[]): string[] {
  const batch = commands.join('; ');
  if (Buffer.byteLength(batch) > MAX_BATCH_BYTES)
    throw new TrunklineError(
      ErrorCode.INTERNAL,
      `virsh batch of ${commands.length} commands exceeds the ${MAX_BATCH_BYTES}-byte argument limit`,
    );
  return [...VIRSH, batch];
}

const round1Commands = (marker: string) => [
  'version',
  `echo ${marker}`,
  'list --all --uuid',
  `echo ${marker}`,
  'net-list --all --uuid',
  `echo ${marker}`,
];

/** Round 1: versions, all domain UUIDs, all network UUIDs (active and inactive). */
export function inventoryRound1Argv(marker: string): string[] {
  checkMarker(marker);
  return batchArgv(round1Commands(marker));
}

/**
 * Splits a batch's stdout on marker lines. Returns the sections BEFORE each marker; text after
 * the last marker must be blank, and exactly `expected` markers must be there.
 */
function splitSections(stdout: string, marker: string, expected: number, what: string): string[] {
  const sections: string[] = [];
  let current: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trimEnd() === marker) {
      sections.push(current.join('\n'));
      current = [];
    } else current.push(line);
  }
  if (sections.length !== expected || current.join('').trim() !== '')
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `virsh ${what} output has ${sections.length} sections, expected ${expected}`, {
      output: stdout.slice(0, 500),
    });
  return sections;
}

function uuidLines(section: string, what: string): string[] {
  const uuids = section
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const u of uuids)
    if (!UUID_RE.test(u))
      throw new TrunklineError(
        ErrorCode.UNEXPECTED_OUTPUT,
        `virsh ${what} printed a line that is not a UUID: ${JSON.stringify(u.slice(0, 100))}`,
      );
  return uuids;
}

/** Reads "Using library: libvirt 9.0.0" and "Running hypervisor: QEMU 7.2.22" from `virsh version`. */
export function parseVersion(text: string): LibvirtVersions {
  return {
    libvirt: /^Using library: libvirt (\S+)/m.exec(text)?.[1] ?? null,
    qemu: /^Running hypervisor: QEMU (\S+)/m.exec(text)?.[1] ?? null,
  };
}

export interface Round1 {
  versions: LibvirtVersions;
  domainUuids: string[];
  networkUuids: string[];
}

export function parseRound1(stdout: string, marker: string): Round1 {
  const [version = '', domains = '', networks = ''] = splitSections(stdout, marker, 3, 'inventory (round 1)');
  // `version` always names the library; without it this is not virsh output.
  if (!/^Using library: /m.test(version))
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, 'virsh round 1 output lacks the `virsh version` lines', {
      output: version.slice(0, 300),
    });
  return {
    versions: parseVersion(version),
    domainUuids: uuidLines(domains, 'list --all --uuid'),
    networkUuids: uuidLines(networks, 'net-list --all --uuid'),
  };
}

function checkUuids(uuids: readonly string[], what: string): void {
  for (const u of uuids)
    if (!UUID_RE.test(u))
      throw new TrunklineError(
        ErrorCode.UNEXPECTED_OUTPUT,
        `refusing ${what} UUID ${JSON.stringify(u.slice(0, 100))} for a virsh batch: not a lowercase libvirt UUID`,
      );
}

/**
 * Round 2: for each domain `dumpxml U; echo M; domstate U; echo M`, then for each network
 * `net-dumpxml U; echo M; net-info U; echo M`. Returns null when both lists are empty: there is
 * nothing to ask and the caller skips the invocation. UUIDs are checked against UUID_RE because
 * they are spliced into a string that virsh's own command parser tokenises.
 */
export function inventoryRound2Argv(marker: string, domainUuids: readonly string[], networkUuids: readonly string[]): string[] | null {
  checkMarker(marker);
  checkUuids(domainUuids, 'domain');
  checkUuids(networkUuids, 'network');
  if (domainUuids.length === 0 && networkUuids.length === 0) return null;
  return batchArgv(round2Commands(marker, domainUuids, networkUuids));
}

function round2Commands(marker: string, domainUuids: readonly string[], networkUuids: readonly string[]): string[] {
  const echo = `echo ${marker}`;
  return [
    ...domainUuids.flatMap((u) => [`dumpxml ${u}`, echo, `domstate ${u}`, echo]),
    ...networkUuids.flatMap((u) => [`net-dumpxml ${u}`, echo, `net-info ${u}`, echo]),
  ];
}

/**
 * Round 1 followed by a round 2 of the objects a previous read knew, in ONE virsh process: the
 * read a host part plans from, when the lists usually have not changed. Split its output with
 * splitCombinedRead; if the lists name other objects, a real round 2 follows.
 */
export function combinedReadArgv(marker: string, domainUuids: readonly string[], networkUuids: readonly string[]): string[] {
  checkMarker(marker);
  checkUuids(domainUuids, 'domain');
  checkUuids(networkUuids, 'network');
  return batchArgv([...round1Commands(marker), ...round2Commands(marker, domainUuids, networkUuids)]);
}

/** A combined read's output as [round 1's output, round 2's output] (after round 1's three sections). */
export function splitCombinedRead(stdout: string, marker: string): [string, string] {
  const lines = stdout.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trimEnd() === marker && ++seen === 3) return [lines.slice(0, i + 1).join('\n'), lines.slice(i + 1).join('\n')];
  }
  throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `virsh combined read output has ${seen} of round 1's 3 sections`, {
    output: stdout.slice(0, 500),
  });
}

export interface Round2 {
  domains: Domain[];
  networks: LibvirtNetwork[];
}

/**
 * Parses round 2 with the same UUID lists that built it. A blank section means that object
 * vanished between the rounds (undefined, or a transient one stopped): it is skipped.
 */
export function parseRound2(stdout: string, marker: string, domainUuids: readonly string[], networkUuids: readonly string[]): Round2 {
  const sections = splitSections(stdout, marker, 2 * (domainUuids.length + networkUuids.length), 'inventory (round 2)');
  const pairs = (offset: number, uuids: readonly string[]) =>
    uuids.flatMap((uuid, i) => {
      const first = sections[offset + 2 * i] ?? '';
      const second = sections[offset + 2 * i + 1] ?? '';
      return first.trim() === '' || second.trim() === '' ? [] : [{ uuid, first, second }];
    });
  const domains = pairs(0, domainUuids).map(({ uuid, first, second }): Domain => {
    const dom = parseDomainXml(first);
    checkSameUuid(dom.uuid, uuid, 'dumpxml');
    return { ...dom, state: second.trim() };
  });
  const networks = pairs(2 * domainUuids.length, networkUuids).map(({ uuid, first, second }): LibvirtNetwork => {
    const net = parseNetworkXml(first);
    checkSameUuid(net.uuid, uuid, 'net-dumpxml');
    const info = parseNetInfo(second);
    return { ...net, bridge: net.bridge ?? info.bridge, active: info.active, persistent: info.persistent, autostart: info.autostart };
  });
  return { domains: domains.sort(byName), networks: networks.sort(byName) };
}

// Sections are matched to UUIDs by position; a mismatch means the split went wrong.
function checkSameUuid(got: string, wanted: string, what: string): void {
  if (got !== wanted) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `virsh ${what} ${wanted} returned the XML of ${got}`);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

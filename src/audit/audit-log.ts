import type { Redis } from 'ioredis';
import type { AuditEntry, AuditOutcome, NewAuditEntry } from './audit-entry.ts';
import { redact } from './redact.ts';

/*
 * The audit log: an append-only Redis stream, <prefix>:audit, one entry per record (field `e`:
 * the record as JSON). Nothing in Trunkline rewrites or deletes an entry; the stream is trimmed
 * only by age (TRUNKLINE_AUDIT_RETENTION_DAYS, at every write) and, as a hard bound on size, to
 * TRUNKLINE_AUDIT_MAX_ENTRIES (approximately, every 1,000 writes). Entry ids are time-ordered:
 * they are the cursors of lists and exports.
 */

export interface AuditFilter {
  actor?: string | null;
  operation?: string | null;
  outcome?: AuditOutcome | null;
  ticketRef?: string | null;
  /** Only entries after this id (or ISO time). */
  since?: string | null;
}

export interface AuditLogOptions {
  retentionDays: number;
  maxEntries: number;
  /** Told of a write recordInBackground could not make (it throws nowhere). */
  onWriteError?: (err: Error, entry: NewAuditEntry) => void;
}

const TRIM_EVERY = 1000;

/** A stream id bound from an entry id or an ISO time. */
export function streamBound(since: string): string | null {
  if (/^\d+-\d+$/.test(since)) return since;
  const t = Date.parse(since);
  return Number.isNaN(t) ? null : `${t}-0`;
}

export class AuditLog {
  private readonly redis: Redis;
  readonly key: string;
  private readonly options: AuditLogOptions;
  private writes = 0;

  constructor(redis: Redis, prefix: string, options: AuditLogOptions) {
    this.redis = redis;
    this.key = `${prefix}:audit`;
    this.options = options;
  }

  /** Appends a record (its input redacted here, whoever built it); its id. */
  async record(entry: NewAuditEntry): Promise<string> {
    const at = entry.at ?? new Date().toISOString();
    const body = JSON.stringify({ ...entry, at, input: redact(entry.input) });
    const minId = `${Date.now() - this.options.retentionDays * 86_400_000}-0`;
    const id = (await this.redis.xadd(this.key, 'MINID', '~', minId, '*', 'e', body)) as string;
    if (++this.writes % TRIM_EVERY === 0) await this.redis.xtrim(this.key, 'MAXLEN', '~', this.options.maxEntries);
    return id;
  }

  /** Records without being waited for (after an answer was made): a failed write goes to onWriteError. */
  recordInBackground(entry: NewAuditEntry): void {
    this.record(entry).catch((err: Error) => this.options.onWriteError?.(err, entry));
  }

  /**
   * Entries newest first, after the cursor (an entry id, exclusive), those the filter keeps, at
   * most `limit`; `more` when older ones remain.
   */
  async list(filter: AuditFilter, page: { limit: number; cursor?: string | null }): Promise<{ entries: AuditEntry[]; more: boolean }> {
    const out: AuditEntry[] = [];
    const floor = filter.since ? streamBound(filter.since) : null;
    let end = page.cursor ? `(${page.cursor}` : '+';
    const start = floor ? `(${floor}` : '-';
    for (;;) {
      const batch = (await this.redis.xrevrange(this.key, end, start, 'COUNT', 500)) as [string, string[]][];
      for (const [id, fields] of batch) {
        const entry = parseEntry(id, fields);
        if (!entry || !matches(filter, entry)) continue;
        if (out.length === page.limit) return { entries: out, more: true };
        out.push(entry);
      }
      if (batch.length < 500) return { entries: out, more: false };
      end = `(${batch.at(-1)![0]}`;
    }
  }

  /** Every entry the filter keeps, oldest first, a batch at a time (the JSON-lines export). */
  async *export(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    let start = filter.since ? `(${streamBound(filter.since) ?? '0-0'}` : '-';
    for (;;) {
      const batch = (await this.redis.xrange(this.key, start, '+', 'COUNT', 500)) as [string, string[]][];
      for (const [id, fields] of batch) {
        const entry = parseEntry(id, fields);
        if (entry && matches(filter, entry)) yield entry;
      }
      if (batch.length < 500) return;
      start = `(${batch.at(-1)![0]}`;
    }
  }
}

function parseEntry(id: string, fields: string[]): AuditEntry | null {
  const i = fields.indexOf('e');
  if (i < 0) return null;
  try {
    return { id, ...(JSON.parse(fields[i + 1]!) as Omit<AuditEntry, 'id'>) };
  } catch {
    return null;
  }
}

function matches(f: AuditFilter, e: AuditEntry): boolean {
  return (
    (!f.actor || e.actor?.name === f.actor || e.actor?.tokenId === f.actor) &&
    (!f.operation || e.operation === f.operation) &&
    (!f.outcome || e.outcome === f.outcome) &&
    (!f.ticketRef || e.ticketRef === f.ticketRef)
  );
}

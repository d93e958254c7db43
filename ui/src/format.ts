/* Text for times, durations and sizes: pure, so the views and their tests agree. */

/** "4 s", "2 min 5 s", "3 h 12 min". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hours = Math.floor(m / 60);
  return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
}

/** How long a job or step ran (or has run so far, at `now`). */
export function elapsed(startedAt: string | null, finishedAt: string | null, now: number): string {
  if (!startedAt) return '–';
  const end = finishedAt ? Date.parse(finishedAt) : now;
  return duration(end - Date.parse(startedAt));
}

/** "12 s ago", "3 min ago", or the date for anything older than a day. */
export function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  if (ms < 0) return 'just now';
  if (ms < 86_400_000) return `${duration(ms).replace(/ \d+ s$/, '')} ago`;
  return iso.slice(0, 10);
}

/** An ISO time as the operator reads it: 2026-11-29 01:47:36 (UTC, as the API gives it). */
export function clock(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–';
}

/** VLAN lists as ranges: [1001, 1002, 1003, 1010] → "1001-1003,1010". */
export function tagList(tags: readonly number[]): string {
  const sorted = [...new Set(tags)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return out.join(',');
}

export interface Excerpt {
  text: string;
  /** Lines left out (from the start: the end of a command's output says most). */
  omittedLines: number;
}

/** The last `maxLines` lines of a command's output (at most `maxChars`), saying how much was left out. */
export function excerpt(output: string | null, maxLines = 12, maxChars = 2000): Excerpt | null {
  if (output === null) return null;
  const trimmed = output.replace(/\s+$/, '');
  if (!trimmed) return null;
  const lines = trimmed.split('\n');
  let kept = lines.slice(-maxLines);
  while (kept.length > 1 && kept.join('\n').length > maxChars) kept = kept.slice(1);
  let text = kept.join('\n');
  if (text.length > maxChars) text = `…${text.slice(-maxChars)}`;
  return { text, omittedLines: lines.length - kept.length };
}

/**
 * The job's uuid (what REST and the CLI show) when the id is a Job global id: those are
 * base64url of "Job:<uuid>" (opaque to clients, but people quote uuids); else the id itself.
 */
export function jobUuid(id: string): string {
  try {
    const text = atob(id.replace(/-/g, '+').replace(/_/g, '/'));
    if (text.startsWith('Job:')) return text.slice(4);
  } catch {}
  return id;
}

/** A job id as a short label: its uuid's first 8 characters. */
export const shortJobId = (id: string) => jobUuid(id).slice(0, 8);

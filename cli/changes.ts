import type { Command } from 'commander';
import { Option } from 'commander';
import type { Job, Plan } from './api.ts';
import { parseSeconds } from './args.ts';
import type { QueryValue } from './client.ts';
import type { Context } from './context.ts';
import { CliError, type ExitCode, exitCodeForJobState } from './errors.ts';
import { JOB_FIELDS, PLAN_STEP_COLUMNS } from './output/columns.ts';
import { acceptedLine, renderAccepted, renderOutcome } from './output/job.ts';
import { renderPlan } from './output/plan.ts';
import { followJob, WaitTimeout } from './wait.ts';

/*
 * Every change goes the same way: the request (with its ticket and Idempotency-Key), then
 * either the plan (--dry-run: ?dryRun=true answers it and queues nothing), the accepted job
 * (--no-wait), or the job followed to its end (--wait) with the exit code of its outcome.
 */

export interface ChangeFlags {
  ticket?: string;
  idempotencyKey?: string;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: number;
}

export interface ChangeRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** The JSON body (changes with a body), or… */
  body?: Record<string, unknown>;
  /** …the query string (DELETEs). */
  query?: Record<string, QueryValue>;
  /** Where ticketRef goes: with the body or the query (default: where the input is); none: the operation has no ticket. */
  ticket?: 'body' | 'query' | 'none';
  /** Request field → the flag it came from, named in refusals. */
  flags?: Record<string, string>;
  /** The job in the answer (default: the answer is the job). */
  jobOf?: (answer: unknown) => Job;
  /** A line for people about the answer (on stderr), e.g. what a registration did. */
  note?: (answer: unknown) => string;
}

/** --wait/--no-wait, --timeout, and (where the operation takes them) --ticket, --idempotency-key, --dry-run. */
export function changeOptions(cmd: Command, opts: { ticket?: boolean; dryRun?: boolean; idempotency?: boolean } = {}): Command {
  if (opts.dryRun !== false) cmd.option('--dry-run', 'print the plan with its exact commands; queue nothing');
  if (opts.ticket !== false) cmd.option('--ticket <ref>', 'the ticket this change belongs to (stored on the job and its events)');
  if (opts.idempotency !== false)
    cmd.option('--idempotency-key <key>', 'retry safely: the same key and request answer the first job again instead of a second one');
  return waitOptions(cmd);
}

export function waitOptions(cmd: Command): Command {
  return cmd
    .option('--wait', 'follow the job to its end, with progress (default on a terminal)')
    .option('--no-wait', 'print the accepted job and return')
    .addOption(new Option('--timeout <seconds>', 'give up waiting after this long (exit 5; the job goes on)').argParser(parseSeconds));
}

export async function runChange(ctx: Context, req: ChangeRequest, flags: ChangeFlags): Promise<ExitCode> {
  const ticketIn = req.ticket ?? (req.body ? 'body' : 'query');
  const body = req.body && ticketIn === 'body' && flags.ticket ? { ...req.body, ticketRef: flags.ticket } : req.body;
  const query: Record<string, QueryValue> = { ...req.query };
  if (ticketIn === 'query' && flags.ticket) query.ticketRef = flags.ticket;
  if (flags.dryRun) query.dryRun = true;
  const headers: Record<string, string> = flags.idempotencyKey ? { 'idempotency-key': flags.idempotencyKey } : {};
  let answer: Awaited<ReturnType<typeof ctx.client.request>>;
  try {
    answer = await ctx.client.request(req.method, req.path, { body, query, headers });
  } catch (err) {
    if (err instanceof CliError)
      err.flags = { ticketRef: '--ticket', 'Idempotency-Key': '--idempotency-key', dryRun: '--dry-run', ...req.flags };
    throw err;
  }
  if (flags.dryRun) {
    const plan = answer.body as Plan;
    ctx.print({ data: plan, rows: plan.steps, columns: PLAN_STEP_COLUMNS, text: (paint) => renderPlan(plan, paint) });
    return 0;
  }
  if (req.note) ctx.note(req.note(answer.body));
  const job = req.jobOf ? req.jobOf(answer.body) : (answer.body as Job);
  const replayed = answer.headers.get('idempotent-replayed') === 'true';
  if (replayed) ctx.note(`Idempotency-Key ${flags.idempotencyKey}: already accepted; this is the first request's job ${job.id}`);
  const wait = flags.wait ?? ctx.interactive;
  if (!wait) {
    ctx.print({ data: answer.body, row: job, columns: JOB_FIELDS, text: (paint) => renderAccepted(job, paint, replayed) });
    return 0;
  }
  return watch(ctx, job, flags.timeout);
}

/** Follows a job to its end (progress on the terminal, or step lines), prints its outcome; exit 0 done, 1 failed/cancelled, 5 timed out. */
export async function watch(ctx: Context, job: Job, timeoutSeconds?: number, replay = false): Promise<ExitCode> {
  // Progress is for people: with the table it goes to stdout, with json/yaml/value to stderr so the data stays clean.
  const table = ctx.output.format === 'table';
  const out = table ? ctx.io.stdout : ctx.io.stderr;
  if (table && !replay) out.write(`${acceptedLine(job, ctx.output.paint)}\n`);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  let final: Job;
  try {
    final = await followJob(job, {
      client: ctx.client,
      out,
      bars: out.isTTY === true,
      paint: ctx.output.paint,
      timeoutSeconds,
      interrupt: interrupt.signal,
      replay,
    });
  } catch (err) {
    if (err instanceof WaitTimeout) printJob(ctx, err.job);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  printJob(ctx, final);
  return exitCodeForJobState(final.state);
}

export const printJob = (ctx: Context, job: Job) =>
  ctx.print({ data: job, row: job, columns: JOB_FIELDS, text: (paint) => renderOutcome(job, paint) });

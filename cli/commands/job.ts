import { Argument, type Command, Option } from 'commander';
import type { Job, JobEvent } from '../api.ts';
import { parseIntIn, parseSeconds } from '../args.ts';
import { printJob, watch } from '../changes.ts';
import { path } from '../client.ts';
import { EVENT_COLUMNS, JOB_COLUMNS, JOB_FIELDS } from '../output/columns.ts';
import { renderJob } from '../output/job.ts';
import { type Cli, group } from './shared.ts';

/** `trunkline job`: jobs, their events, following and cancelling them (REST /jobs). */

const JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const idArgument = () => new Argument('<id>', 'the job id (a UUID, as changes print it)');

export function jobCommands(program: Command, cli: Cli): void {
  const job = group(
    program,
    'job',
    'list, show, watch and cancel jobs',
    'Jobs: every change (and every read of a host) runs as one, on the hosts, in order.',
  );

  job
    .command('ls')
    .alias('list')
    .description('jobs, newest first')
    .option('--ticket <ref>', 'only the jobs of this ticket')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--kind <kind>', 'only jobs of this kind (ensureVlan, createBridge, …)')
    .option('--host <name>', 'only jobs that touch this hypervisor')
    .addOption(new Option('--limit <n>', 'at most this many (1..10000)').argParser(parseIntIn(1, 10_000)).default(20))
    .action(
      cli.action(async (ctx, _args, opts) => {
        const rows = await ctx.client.listAll<Job>(
          '/jobs',
          { ticketRef: opts.ticket, state: opts.state, kind: opts.kind, hypervisor: opts.host },
          opts.limit as number,
        );
        ctx.print({ data: rows, rows, columns: JOB_COLUMNS });
      }),
    );

  job
    .command('show')
    .description('a job as it is now: per-host state, every step with its command and output, rollback, verification')
    .addArgument(idArgument())
    .action(
      cli.action(async (ctx, [id]) => {
        const row = await ctx.client.get<Job>(path`/jobs/${id!}`);
        ctx.print({ data: row, row, columns: JOB_FIELDS, text: (paint) => renderJob(row, paint) });
      }),
    );

  job
    .command('events')
    .description("a job's events so far, oldest first")
    .addArgument(idArgument())
    .action(
      cli.action(async (ctx, [id]) => {
        const rows = await ctx.client.get<JobEvent[]>(path`/jobs/${id!}/events`);
        ctx.print({ data: rows, rows, columns: EVENT_COLUMNS });
      }),
    );

  job
    .command('watch')
    .description('follow a job to its end (what happened so far, then live); exit 0 succeeded, 1 failed or cancelled')
    .addArgument(idArgument())
    .addOption(new Option('--timeout <seconds>', 'give up waiting after this long (exit 5; the job goes on)').argParser(parseSeconds))
    .action(
      cli.action(async (ctx, [id], opts) => {
        const current = await ctx.client.get<Job>(path`/jobs/${id!}`);
        return watch(ctx, current, opts.timeout, true);
      }),
    );

  job
    .command('cancel')
    .description('cancel a job: a queued one at once, a running one before its next step (applied steps stay)')
    .addArgument(idArgument())
    .action(
      cli.action(async (ctx, [id]) => {
        const { body } = await ctx.client.request<Job>('POST', path`/jobs/${id!}/cancel`);
        printJob(ctx, body);
        if (body.state === 'RUNNING')
          ctx.note(`cancel requested: the worker stops it before its next step (trunkline job watch ${body.id})`);
      }),
    );
}

import type { MultiBar, SingleBar } from 'cli-progress';
import { type Job, type JobEvent, TERMINAL_STATES } from './api.ts';
import { type ApiClient, path } from './client.ts';
import { CliCode, CliError, Exit } from './errors.ts';
import { eventLines } from './output/events.ts';
import type { Paint } from './output/style.ts';
import { JobProgressModel } from './progress.ts';
import { readEvents, SseParser } from '../src/sse/event-stream.ts';

/*
 * Following a job to its end over its event stream (GET /api/v1/jobs/{id}/events, SSE): the
 * stream replays what already happened, then goes on live; when it breaks (the gateway restarts,
 * the network drops, `event: reconnect`) the follower connects again with Last-Event-ID and
 * resumes without a gap or a repeat. Progress is drawn as per-host bars on a terminal, as step
 * lines anywhere else.
 */

export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Renderer {
  event(e: JobEvent): void;
  /** The job record was read again (a host planned or finished). */
  synced(): void;
  stop(): void;
}

export function lineRenderer(out: ProgressOut, model: JobProgressModel, paint: Paint): Renderer {
  const hostWidth = () => Math.max(3, ...[...model.hosts.keys()].map((h) => h.length));
  return {
    event: (e) => {
      for (const l of eventLines(e, model, paint, hostWidth())) out.write(`${l}\n`);
    },
    synced: () => {},
    stop: () => {},
  };
}

/** Per-host bars (cli-progress MultiBar) with the step lines printed above them. */
export async function barRenderer(out: ProgressOut, model: JobProgressModel, paint: Paint): Promise<Renderer> {
  const { default: cliProgress } = await import('cli-progress');
  const hostWidth = Math.max(3, ...[...model.hosts.keys()].map((h) => h.length));
  const multibar: MultiBar = new cliProgress.MultiBar(
    {
      stream: out as NodeJS.WritableStream,
      format: `{host} {bar} {value}/{total} {state} {step}`,
      barsize: 24,
      hideCursor: false,
      clearOnComplete: false,
      fps: 10,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  const payload = (host: string) => {
    const h = model.hosts.get(host)!;
    return { host: host.padEnd(hostWidth), state: h.state.padEnd(9), step: h.current ?? '' };
  };
  const update = () => {
    for (const [host, h] of model.hosts) {
      let bar = bars.get(host);
      if (!bar) bars.set(host, (bar = multibar.create(Math.max(1, h.steps.length), 0, payload(host))));
      bar.setTotal(Math.max(1, h.steps.length));
      bar.update(model.done(host), payload(host));
    }
  };
  update();
  return {
    event: (e) => {
      for (const l of eventLines(e, model, paint, hostWidth)) multibar.log(`${l}\n`);
      update();
    },
    synced: update,
    stop: () => {
      update();
      // stop() draws the bars a last time but not the lines logged since the last draw.
      multibar.update();
      multibar.stop();
    },
  };
}

export class WaitTimeout extends CliError {
  readonly job: Job;
  constructor(job: Job, seconds: number) {
    super(Exit.TIMED_OUT, CliCode.WAIT_TIMEOUT, `timed out after ${seconds} s waiting for job ${job.id} (${job.state}); the job goes on`, {
      hints: [`follow it: trunkline job watch ${job.id}`],
    });
    this.job = job;
  }
}

export interface FollowOptions {
  client: ApiClient;
  /** Where progress goes, and whether bars are drawn there. */
  out: ProgressOut | null;
  bars: boolean;
  paint: Paint;
  timeoutSeconds?: number;
  /** How long the gateway may stay unreachable while following (then exit 3). */
  unreachableSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Stops following (Ctrl-C): the job goes on. */
  interrupt?: AbortSignal;
  /** Read the stream even when the job has ended already (job watch: its log, replayed). */
  replay?: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An event's JobEvent, or null for data that is none (skipped: the job record is read at the end anyway). */
function parseEvent(data: string): JobEvent | null {
  try {
    const e = JSON.parse(data) as JobEvent;
    return typeof e?.type === 'string' ? e : null;
  } catch {
    return null;
  }
}

/** Follows the job to its end; answers the job as its record has it then. Throws WaitTimeout after `timeoutSeconds`. */
export async function followJob(job: Job, opts: FollowOptions): Promise<Job> {
  const { client } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  const model = new JobProgressModel(job);
  const renderer: Renderer = !opts.out
    ? { event: () => {}, synced: () => {}, stop: () => {} }
    : opts.bars
      ? await barRenderer(opts.out, model, opts.paint)
      : lineRenderer(opts.out, model, opts.paint);
  const deadline = new AbortController();
  const timer = opts.timeoutSeconds ? setTimeout(() => deadline.abort(), opts.timeoutSeconds * 1000) : undefined;
  const interrupted = () => opts.interrupt?.aborted === true;
  opts.interrupt?.addEventListener('abort', () => deadline.abort(), { once: true });
  const jobPath = path`/jobs/${job.id}`;
  const fetchJob = (signal?: AbortSignal) => client.request<Job>('GET', jobPath, { signal }).then((a) => a.body);
  const parser = new SseParser();
  let unreachableSince: number | null = null;
  let ended = !opts.replay && TERMINAL_STATES.has(job.state);
  let lastChance = false;
  try {
    while (!ended) {
      try {
        const body = await client.events(`${jobPath}/events`, parser.lastEventId, deadline.signal);
        unreachableSince = null;
        for await (const ev of readEvents(body, parser)) {
          if (ev.event === 'reconnect') break;
          if (ev.event === 'error' || ev.event === 'message') continue;
          const e = parseEvent(ev.data);
          if (!e) continue;
          model.apply(e);
          renderer.event(e);
          if (e.type === 'HOST_PLANNED' || e.type === 'HOST_FINISHED') {
            model.sync(await fetchJob(deadline.signal));
            renderer.synced();
          }
          if (TERMINAL_STATES.has(e.type)) {
            ended = true;
            break;
          }
        }
      } catch (err) {
        if (deadline.signal.aborted) break;
        // A lost connection (none at all, or cut mid-stream) is retried; a refusal (404, 401) is final.
        if (err instanceof CliError && err.exitCode !== Exit.UNREACHABLE) throw err;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > (opts.unreachableSeconds ?? 60) * 1000) throw err;
      }
      if (ended || deadline.signal.aborted) break;
      // The stream ended without the job's end: resume after the last event seen. If the job's
      // record says it ended, one more read gets the rest of its log; should that end without the
      // job's end too (its log trimmed away), the record is the outcome.
      const now = await fetchJob(deadline.signal).catch(() => null);
      if (now && TERMINAL_STATES.has(now.state)) {
        if (lastChance) break;
        lastChance = true;
        continue;
      }
      await Promise.race([sleep(parser.retryMs ?? 1000), new Promise((r) => deadline.signal.addEventListener('abort', r, { once: true }))]);
    }
    if (interrupted())
      throw new CliError(Exit.INTERRUPTED, CliCode.INTERRUPTED, `stopped following job ${job.id}; the job goes on`, {
        hints: [`follow it again: trunkline job watch ${job.id}`],
      });
    const final = await fetchJob();
    model.sync(final);
    if (!ended && !TERMINAL_STATES.has(final.state)) throw new WaitTimeout(final, opts.timeoutSeconds ?? 0);
    return final;
  } finally {
    clearTimeout(timer);
    renderer.stop();
  }
}

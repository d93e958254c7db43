import { Repeater } from '@repeaterjs/repeater';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger.ts';
import { isRedisUnavailable } from '../redis/availability.ts';
import { JobStore } from './job-store.ts';
import { isTerminal, type JobEvent } from './job-types.ts';
import { compareStreamIds } from './stream-id.ts';

type Listener = (event: JobEvent) => void;

// Pub/sub can drop messages (e.g. while reconnecting); an idle follower re-reads the event log
// this often, so it converges even then.
const CATCH_UP_MS = 2000;
const FLEET_PAGE = 500;

/**
 * Fans job events out to subscribers of this gateway process: one Redis subscription per
 * process, however many clients follow jobs. Events published by any worker reach clients of
 * any gateway.
 */
export class JobEventHub {
  private readonly byJob = new Map<string, Set<Listener>>();
  private readonly everyJob = new Set<Listener>();
  private started: Promise<unknown> | undefined;

  private readonly subscriber: Redis;
  private readonly store: JobStore;
  private readonly logger: Logger;

  constructor(subscriber: Redis, store: JobStore, logger: Logger) {
    this.subscriber = subscriber;
    this.store = store;
    this.logger = logger;
  }

  start(): Promise<unknown> {
    this.started ??= (async () => {
      this.subscriber.removeAllListeners('message');
      this.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== this.store.channel) return;
        const event = JobStore.parseMessage(message);
        if (!event) {
          this.logger.warn({ message: message.slice(0, 200) }, 'unparseable job event message');
          return;
        }
        for (const l of this.byJob.get(event.jobId) ?? []) l(event);
        for (const l of this.everyJob) l(event);
      });
      await this.subscriber.subscribe(this.store.channel);
    })().catch((err: unknown) => {
      // Tried again by the next caller (startup retries while Redis cannot serve it).
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  /**
   * A catch-up read of a follower that is already streaming: while Redis cannot answer (restart,
   * outage, a command timeout), it is tried again from the same place instead of failing the
   * subscription, so the client sees a pause, not an error and a reconnect. Null once `stopped`.
   */
  private async throughOutages<T>(read: () => Promise<T>, stopped: () => boolean): Promise<T | null> {
    let delay = 250;
    for (let told = false; ; ) {
      if (stopped()) return null;
      try {
        return await read();
      } catch (err) {
        if (!isRedisUnavailable(err)) throw err;
        if (!told) this.logger.warn({ err: (err as Error).message }, 'job events: Redis unavailable; the followers wait and resume');
        told = true;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, CATCH_UP_MS);
      }
    }
  }

  /**
   * Events of every job that `keep` accepts, in the order of the fleet log, until the consumer
   * stops (notification pipelines): those after `since` (a sequence a client saw last) first,
   * then live ones; without `since`, from now on. Read from the log itself (pub/sub only wakes
   * the reader, and a 2 s poll covers a dropped message), so nothing is lost, repeated or out of
   * order, also across a reconnect to another gateway. A Repeater: a client that goes away is
   * unsubscribed at once, not at the next event.
   */
  all(keep: (event: JobEvent) => boolean, since?: string | null): Repeater<JobEvent> {
    return new Repeater<JobEvent>(async (push, stop) => {
      await this.start();
      let wake: (() => void) | undefined;
      let dirty = true;
      const listener: Listener = () => {
        dirty = true;
        wake?.();
      };
      this.everyJob.add(listener);
      let stopped = false;
      void stop.then(() => {
        stopped = true;
        wake?.();
      });
      try {
        const now =
          since ??
          (await this.throughOutages(
            () => this.store.lastSequence(),
            () => stopped,
          ));
        if (now === null) return;
        let last = now;
        while (!stopped) {
          if (!dirty) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, CATCH_UP_MS);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = undefined;
          }
          dirty = false;
          for (;;) {
            const from = last;
            const page = await this.throughOutages(
              () => this.store.fleetEvents(from, FLEET_PAGE),
              () => stopped,
            );
            if (!page) break;
            for (const e of page) {
              last = e.sequence!;
              if (keep(e)) await push(e);
            }
            if (page.length < FLEET_PAGE || stopped) break;
          }
        }
      } finally {
        this.everyJob.delete(listener);
      }
    });
  }

  /**
   * Every event of one job, oldest first: first what already happened (a late subscriber gets
   * the current state), then live events, ending after the terminal one. With `afterId` (an
   * event id: SSE Last-Event-ID), it resumes after that event.
   */
  async *follow(jobId: string, signal?: AbortSignal, afterId?: string): AsyncGenerator<JobEvent> {
    await this.start();
    // Live events only wake the reader, which reads the job's log itself: a message lost while
    // the subscription reconnected (a Redis restart) cannot make it skip the events between.
    // Their fleet log positions are kept to be handed on with the log's copies.
    const sequences = new Map<string, string>();
    let dirty = true;
    let wake: (() => void) | undefined;
    const listener: Listener = (e) => {
      if (e.sequence) sequences.set(e.id, e.sequence);
      dirty = true;
      wake?.();
    };
    let listeners = this.byJob.get(jobId);
    if (!listeners) this.byJob.set(jobId, (listeners = new Set()));
    listeners.add(listener);
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      let lastId = afterId ?? null;
      let first = true;
      while (!signal?.aborted) {
        if (!dirty) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, CATCH_UP_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
        dirty = false;
        const from = lastId ?? undefined;
        const page =
          (await this.throughOutages(
            () => this.store.events(jobId, from),
            () => !!signal?.aborted,
          )) ?? [];
        // Resumed after the job's last event: nothing more will come.
        if (first && afterId && page.length === 0) {
          const job = await this.store.get(jobId);
          if (!job || isTerminal(job.state)) return;
        }
        first = false;
        for (const event of page) {
          if (lastId && compareStreamIds(event.id, lastId) <= 0) continue;
          lastId = event.id;
          const sequence = sequences.get(event.id);
          sequences.delete(event.id);
          yield sequence ? { ...event, sequence } : event;
          if (isTerminal(event.state)) return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      listeners.delete(listener);
      if (listeners.size === 0) this.byJob.delete(jobId);
    }
  }
}

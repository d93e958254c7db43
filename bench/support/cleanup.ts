/**
 * Cleanup for benchmark scripts: whatever a script creates (labs, Redis servers and keys, temp
 * dirs, sockets) registers an undo action here; the actions run in reverse order exactly once,
 * after success, after a failure, and on SIGINT/SIGTERM/SIGHUP.
 */
interface Action {
  name: string;
  fn: () => unknown;
}

const actions: Action[] = [];
let running: Promise<void> | undefined;

/** Registers an undo action; returns a function that unregisters it (when undone early). */
export function onCleanup(name: string, fn: () => unknown): () => void {
  const action = { name, fn };
  actions.push(action);
  return () => {
    const i = actions.indexOf(action);
    if (i >= 0) actions.splice(i, 1);
  };
}

/** Runs every registered action, newest first; a failing action is reported and skipped. */
export function runCleanups(): Promise<void> {
  running ??= (async () => {
    while (actions.length) {
      const a = actions.pop()!;
      try {
        await a.fn();
      } catch (err) {
        console.error(`cleanup "${a.name}" failed:`, err instanceof Error ? err.message : err);
      }
    }
  })();
  return running;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * Runs `body`, then the cleanups, then exits (0, 1 on error, 128+n on a signal). Exiting
 * explicitly: open Redis or SSH handles must not keep a finished benchmark alive.
 */
export function runBenchmark(name: string, body: () => Promise<void>): void {
  let signalled = false;
  for (const [sig, n] of Object.entries(SIGNALS)) {
    process.on(sig, () => {
      if (signalled) {
        console.error(`${name}: ${sig} again: still cleaning up, please wait`);
        return;
      }
      signalled = true;
      console.error(`\n${name}: ${sig}: cleaning up...`);
      void runCleanups().finally(() => process.exit(128 + n));
    });
  }
  const fail = (what: string) => (err: unknown) => {
    // After a signal, the cleanup itself makes pending work fail (closed server, lab gone).
    if (signalled) return;
    console.error(`${name}: ${what}:`, err);
    void runCleanups().finally(() => process.exit(1));
  };
  process.on('uncaughtException', fail('uncaught exception'));
  process.on('unhandledRejection', fail('unhandled rejection'));
  body().then(() => runCleanups().finally(() => process.exit(0)), fail('failed'));
}

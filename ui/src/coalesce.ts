/**
 * `run` wrapped so that runs never overlap: a call while one runs asks for exactly one more run
 * after it, however many calls came (a burst of job events is one re-read, and the last answer
 * is always from after the last event).
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running = false;
  let again = false;
  const next = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await run();
    } finally {
      running = false;
      if (again) {
        again = false;
        void next();
      }
    }
  };
  return next;
}

// Coalesces event batches so the UI applies them at most once per frame.

export type Scheduler = (cb: () => void) => unknown;

export const rafScheduler: Scheduler = (cb) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(() => cb()) : setTimeout(cb, 16);

export interface FrameBatcher<T> {
  push(batch: readonly T[]): void;
  /** apply what is queued right now (e.g. before a synchronous read) */
  flush(): void;
  pending(): number;
}

export function createFrameBatcher<T>(
  apply: (events: T[]) => void,
  schedule: Scheduler = rafScheduler,
): FrameBatcher<T> {
  let queue: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (queue.length === 0) return;
    const q = queue;
    queue = [];
    apply(q);
  };
  return {
    push(batch) {
      if (batch.length === 0) return;
      for (const e of batch) queue.push(e);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
    pending: () => queue.length,
  };
}

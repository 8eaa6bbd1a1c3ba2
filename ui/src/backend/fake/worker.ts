// The simulated worker: pending → processing (stage + progress) → completed
// (chunks) or failed (a human error), one tick at a time.
import type { Item } from "../types";
import { chunksOf, docText } from "./content";
import { ERRORS, FILE_STAGES, URL_STAGES } from "./data";
import { emit, type FakeState, type ItemSpec, newItem, put, update } from "./state";

function limit(s: FakeState): number {
  return s.concurrencyOverride ?? s.queue.concurrency;
}

function hasWork(s: FakeState): boolean {
  return s.processing.size > 0 || (!s.queue.paused && s.pendingQueue.length > 0);
}

/** Keep ticking while there is work (unless frozen: speed 0). */
export function wake(s: FakeState) {
  if (s.timer !== null || s.speed <= 0) return;
  if (!hasWork(s)) return;
  s.timer = setTimeout(() => {
    s.timer = null;
    tick(s);
    wake(s);
  }, s.tickMs);
}

function stageFor(item: Item, progress: number): string {
  const table = item.kind === "url" ? URL_STAGES : FILE_STAGES;
  let stage = table[0]![1];
  for (const [at, name] of table) if (progress >= at) stage = name;
  return stage;
}

export function tick(s: FakeState) {
  const now = Date.now();
  const sp = s.speed > 0 ? s.speed : 1;
  const { queue, processing, pendingQueue, items, meta } = s;
  const runningBefore = processing.size;
  // start new jobs
  while (!queue.paused && processing.size < limit(s) && pendingQueue.length > 0) {
    const id = pendingQueue.shift()!;
    const it = items.get(id);
    if (it?.status !== "pending") continue;
    processing.add(id);
    const m = meta.get(id)!;
    m.startedAt = now;
    m.ticks = 0;
    update(
      s,
      id,
      {
        status: "processing",
        progress: 0,
        stage: stageFor(it, 0),
        attempts: it.attempts + 1,
        jobId: `j${m.seq}-${it.attempts + 1}`,
        error: null,
      },
      now,
    );
  }
  // advance running jobs
  for (const id of [...processing]) {
    const it = items.get(id);
    if (!it) {
      processing.delete(id);
      continue;
    }
    const m = meta.get(id)!;
    m.ticks += 1;
    const sizeFactor = it.size ? Math.min(3, Math.max(0.5, Math.log10(it.size) / 5)) : 1;
    const step = ((4 + s.rand() * 8) * sp) / sizeFactor;
    const progress = Math.min(100, it.progress + step);
    if (progress < 100) {
      update(s, id, { progress: Math.floor(progress), stage: stageFor(it, progress) }, now);
      continue;
    }
    processing.delete(id);
    const seconds = Math.max(1, Math.round(m.ticks * 0.4));
    if (m.failuresLeft > 0) {
      m.failuresLeft -= 1;
      s.batch.failed += 1;
      const error =
        it.kind === "url"
          ? s.pick(ERRORS.slice(1, 3).concat(ERRORS[5]!))
          : s.pick([ERRORS[0]!, ERRORS[3]!, ERRORS[4]!]);
      update(s, id, { status: "failed", progress: 0, stage: null, error, jobId: null }, now);
    } else {
      s.batch.completed += 1;
      s.durations.set(seconds, (s.durations.get(seconds) ?? 0) + 1);
      // a link's type is what fetching it answered: here, a PDF when its address ends in .pdf
      if (it.kind === "url" && it.mime === null) put(s, { ...it, mime: linkMime(it.location) }, null);
      const text = docText(s, id);
      const key = `${it.kind}:${it.name}`;
      const orig = s.completedByName.get(key);
      const dup = orig && orig !== id && items.get(orig)?.status === "completed" ? orig : null;
      if (!dup) s.completedByName.set(key, id);
      update(
        s,
        id,
        {
          status: "completed",
          progress: 100,
          stage: null,
          error: null,
          jobId: null,
          chunkCount: chunksOf(text).length,
          duplicateOf: dup,
        },
        now,
      );
    }
  }
  if (processing.size !== runningBefore || processing.size !== queue.running) {
    queue.running = processing.size;
    emit(s, { type: "queue", queue: { ...queue } });
  }
  if (s.batch.active && processing.size === 0 && pendingQueue.length === 0) {
    s.batch.active = false;
    emit(s, { type: "batchFinished", completed: s.batch.completed, failed: s.batch.failed });
  }
}

/** Put an item on the queue (its first attempt fails at `failRate`, or always with `fail`). */
export function enqueue(s: FakeState, id: string, opts: { fail?: boolean } = {}) {
  const m = s.meta.get(id)!;
  if (opts.fail) m.failuresLeft = 99;
  else if (s.rand() < s.failRate) m.failuresLeft = 1;
  s.pendingQueue.push(id);
  if (!s.batch.active) {
    s.batch.active = true;
    s.batch.completed = 0;
    s.batch.failed = 0;
  }
  wake(s);
}

/** Insert new pending items (itemAdded events) and queue them, as `add_paths`/`add_urls` do. */
export function addItems(s: FakeState, specs: ItemSpec[], opts: { fail?: boolean } = {}): Item[] {
  const now = Date.now();
  const added: Item[] = [];
  for (const spec of specs) {
    const it = newItem(s, spec, now);
    added.push(it);
    emit(s, { type: "itemAdded", item: it });
  }
  for (const it of added) enqueue(s, it.id, { fail: opts.fail || /always[- ]?fail/i.test(it.name) });
  return added;
}

/** The MIME type fetching a link would report (the fake's guess from its address). */
function linkMime(url: string): string {
  return /\.pdf(?:[?#]|$)/i.test(url) ? "application/pdf" : "text/html";
}

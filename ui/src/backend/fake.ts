// In-memory Backend used in a plain browser (dev, demos, browser tests).
// It simulates the Rust worker: pending → processing (stage + progress) →
// completed (chunks) or failed (human error), emitting BATCHED events just
// like `trove://events`, plus the drag state Tauri would report.
//
// URL query (see TESTING.md):
//   ?fake=states        a handful of items in all four states (+ XSS probes)
//   ?fake=seed-10000    10,000 seeded items (any number works)
//   ?fake=empty         nothing (default)
//   &speed=0            frozen: nothing moves until __troveFake.step()
//   &speed=4            4× faster worker (default 1; fractions slow it down)
//   &fail=0.1           share of new items whose first attempt fails (default 0.08)
//   &paused=1           start with the queue paused
import type {
  AddReport,
  AppError,
  Backend,
  ChunkView,
  DragState,
  DurationBucket,
  EngineEvent,
  Item,
  Overview,
  QueueState,
  SearchHit,
  SearchResponse,
  Status,
} from "./types";

export interface FakeOptions {
  /** "states", "empty", or a number of items to seed */
  seed: "states" | "empty" | number;
  /** worker speed multiplier; 0 freezes the simulation (manual step()) */
  speed: number;
  /** probability that a new item's first attempt fails */
  failRate: number;
  paused: boolean;
  concurrency: number;
  /** PRNG seed, for reproducible runs */
  randomSeed: number;
  /** embedding model: none installed, installed but nothing embedded yet, or in use */
  model: "none" | "unindexed" | "indexed";
}

export const DEFAULT_FAKE_OPTIONS: FakeOptions = {
  seed: "empty",
  speed: 1,
  failRate: 0.08,
  paused: false,
  concurrency: 3,
  randomSeed: 42,
  model: "none",
};

export function fakeOptionsFromQuery(search: string): FakeOptions {
  const q = new URLSearchParams(search);
  const o: FakeOptions = { ...DEFAULT_FAKE_OPTIONS };
  const fake = q.get("fake") ?? "";
  const m = /^seed-(\d+)$/.exec(fake);
  if (m) o.seed = Math.min(Number(m[1]), 200_000);
  else if (fake === "states") o.seed = "states";
  const speed = q.get("speed");
  if (speed !== null && speed !== "" && Number.isFinite(Number(speed))) o.speed = Math.max(0, Number(speed));
  const fail = q.get("fail");
  if (fail !== null && fail !== "" && Number.isFinite(Number(fail))) o.failRate = Math.min(1, Math.max(0, Number(fail)));
  if (q.get("paused") === "1") o.paused = true;
  const conc = Number(q.get("concurrency"));
  if (Number.isInteger(conc) && conc >= 1 && conc <= 8) o.concurrency = conc;
  const model = q.get("model");
  if (model === "none" || model === "unindexed" || model === "indexed") o.model = model;
  return o;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FILE_STEMS = [
  "Quarterly report", "Meeting notes", "Design review", "Invoice", "Research paper",
  "Onboarding guide", "Roadmap", "Budget", "Interview transcript", "Architecture decision",
  "Release checklist", "Customer feedback", "Travel itinerary", "Lecture slides", "Recipe",
  "Contract draft", "Thesis chapter", "Lab results", "Product spec", "Postmortem",
];
const FILE_TYPES: [string, string][] = [
  ["pdf", "application/pdf"],
  ["md", "text/markdown"],
  ["txt", "text/plain"],
  ["docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["html", "text/html"],
  ["epub", "application/epub+zip"],
  ["csv", "text/csv"],
];
const SITES = [
  "https://en.wikipedia.org/wiki/", "https://blog.rust-lang.org/", "https://developer.mozilla.org/en-US/docs/",
  "https://news.example.com/articles/", "https://docs.example.org/guide/",
];
const PAGE_WORDS = ["Local-first_software", "Vector_database", "Tokenization", "Rust_2024", "Search_ranking", "WebView", "SQLite", "Embeddings"];
const ERRORS = [
  "The PDF is password-protected, so no text could be extracted.",
  "The server answered 404 Not Found.",
  "Timed out after 30 seconds while fetching the page.",
  "The file is not text and no extractor handles its type (application/octet-stream).",
  "The file was moved or deleted before it could be read.",
  "The page needs JavaScript to show its content; nothing readable was found.",
];
const VOCAB = (
  "trove local first knowledge base search index chunk embedding vector query ranking document " +
  "meeting budget roadmap design review invoice contract research paper thesis lecture customer " +
  "feedback release checklist architecture decision postmortem travel recipe lab results product " +
  "spec rust sqlite tokenizer semantic keyword hybrid offline private desktop drag drop folder " +
  "report quarterly revenue growth team hiring plan risk mitigation latency throughput memory"
).split(" ");
const FILE_STAGES: [number, string][] = [[0, "extracting"], [25, "chunking"], [50, "embedding"], [85, "indexing"]];
const URL_STAGES: [number, string][] = [[0, "fetching"], [30, "extracting"], [50, "chunking"], [65, "embedding"], [90, "indexing"]];
const CHUNK_CHARS = 220;

/** Escaped-looking but harmless strings used by the XSS tests. */
export const XSS_NAME = '<img src=x onerror="window.__pwned=1">';
export const XSS_TEXT =
  'Security probe: <script>window.__pwned=1</script> this paragraph tests that snippets are shown as text. ' +
  '<img src=x onerror="window.__pwned=1"> The probe word is xylophone.';

interface Meta {
  seq: number;
  /** how many more attempts will fail */
  failuresLeft: number;
  /** set for "always fails" items */
  alwaysFail: boolean;
  startedAt: number;
  /** simulated processing seconds */
  ticks: number;
  text: string | null;
}

function err(code: string, message: string): AppError {
  return { code, message };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface FakeTestHooks {
  /** simulate Tauri's drag-drop window events */
  drag(state: DragState["state"], count: number): void;
  /** simulate a drop of n files (drag state "drop" + the files added, as Rust would) */
  drop(n: number, opts?: { fail?: boolean }): string[];
  /** add n files directly */
  addFiles(n: number, opts?: { fail?: boolean; name?: string }): string[];
  /** deliver `batches` separate event batches of `perBatch` new files each, synchronously (an IPC burst) */
  burst(batches: number, perBatch: number): void;
  /** advance the simulation by n ticks (works when frozen too) */
  step(n?: number): void;
  /** change speed (0 = frozen) and optional concurrency override (may exceed 8, for perf runs) */
  configure(o: { speed?: number; concurrencyOverride?: number | null; failRate?: number; tickMs?: number }): void;
  /** force an item into a state, for tests */
  setStatus(id: string, status: Status, error?: string): void;
  count(): number;
  backend: Backend;
}

export interface FakeBackend extends Backend {
  exposeTestHooks(w: Window): void;
  hooks: FakeTestHooks;
}

declare global {
  interface Window {
    __troveFake?: FakeTestHooks;
  }
}

export function createFakeBackend(opts: Partial<FakeOptions> = {}): FakeBackend {
  const o: FakeOptions = { ...DEFAULT_FAKE_OPTIONS, ...opts };
  const rand = mulberry32(o.randomSeed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;

  const items = new Map<string, Item>();
  const meta = new Map<string, Meta>();
  const bySeq = new Map<number, string>();
  /** insertion order, oldest first (ids; deleted ones are skipped lazily) */
  let order: string[] = [];
  const pendingQueue: string[] = [];
  const processing = new Set<string>();
  const durations = new Map<number, number>();
  /** "kind:name" → first completed item with that name (duplicate detection stand-in) */
  const completedByName = new Map<string, string>();
  let seq = 0;
  const queue: QueueState = { paused: o.paused, concurrency: o.concurrency, running: 0 };
  let speed = o.speed;
  let model = o.model;
  let tickMs = 100;
  let concurrencyOverride: number | null = null;
  let failRate = o.failRate;
  let batchCompleted = 0;
  let batchFailed = 0;
  let batchActive = false;

  const eventListeners = new Set<(b: EngineEvent[]) => void>();
  const dragListeners = new Set<(s: DragState) => void>();
  let outbox: EngineEvent[] = [];
  let flushScheduled = false;

  function emit(ev: EngineEvent) {
    outbox.push(ev);
    if (!flushScheduled) {
      flushScheduled = true;
      // deliver asynchronously, like IPC, and batched
      setTimeout(() => {
        flushScheduled = false;
        const batch = outbox;
        outbox = [];
        for (const l of eventListeners) l(batch);
      }, 0);
    }
  }

  function put(item: Item, kind: "itemAdded" | "itemUpdated" | null) {
    items.set(item.id, item);
    if (kind) emit({ type: kind, item });
  }

  function update(id: string, patch: Partial<Item>, now = Date.now()): Item {
    const cur = items.get(id)!;
    const next: Item = { ...cur, ...patch, updatedAt: iso(now) };
    put(next, "itemUpdated");
    return next;
  }

  function newItem(partial: Partial<Item> & Pick<Item, "kind" | "name" | "location">, addedMs: number): Item {
    seq += 1;
    const id = (partial.kind === "file" ? "f" : "u") + seq;
    const item: Item = {
      id,
      kind: partial.kind,
      name: partial.name,
      location: partial.location,
      mime: partial.mime ?? null,
      size: partial.size ?? null,
      status: partial.status ?? "pending",
      progress: partial.progress ?? 0,
      stage: partial.stage ?? null,
      error: partial.error ?? null,
      jobId: partial.jobId ?? null,
      attempts: partial.attempts ?? 0,
      maxAttempts: partial.maxAttempts ?? 3,
      chunkCount: partial.chunkCount ?? 0,
      duplicateOf: partial.duplicateOf ?? null,
      addedAt: iso(addedMs),
      updatedAt: iso(addedMs),
    };
    items.set(id, item);
    meta.set(id, { seq, failuresLeft: 0, alwaysFail: false, startedAt: 0, ticks: 0, text: null });
    bySeq.set(seq, id);
    order.push(id);
    return item;
  }

  function randomFile(): Pick<Item, "kind" | "name" | "location" | "mime" | "size"> {
    const [ext, mime] = pick(FILE_TYPES);
    const name = `${pick(FILE_STEMS)} ${Math.floor(rand() * 900 + 100)}.${ext}`;
    return {
      kind: "file",
      name,
      location: `/home/ada/Documents/${name}`,
      mime,
      size: Math.floor(Math.exp(rand() * 12 + 6)),
    };
  }

  function randomUrl(): Pick<Item, "kind" | "name" | "location" | "mime" | "size"> {
    const w = pick(PAGE_WORDS);
    const url = pick(SITES) + w + (rand() < 0.5 ? "" : `-${Math.floor(rand() * 100)}`);
    return { kind: "url", name: rand() < 0.6 ? w.replace(/_/g, " ") : url, location: url, mime: "text/html", size: null };
  }

  function enqueue(id: string, opts: { fail?: boolean } = {}) {
    const m = meta.get(id)!;
    if (opts.fail) m.failuresLeft = 99;
    else if (rand() < failRate) m.failuresLeft = 1;
    pendingQueue.push(id);
    if (!batchActive) {
      batchActive = true;
      batchCompleted = 0;
      batchFailed = 0;
    }
    wake();
  }

  function docText(id: string): string {
    const m = meta.get(id)!;
    if (m.text !== null) return m.text;
    const item = items.get(id)!;
    if (item.name === XSS_NAME) {
      m.text = XSS_TEXT + " " + XSS_TEXT;
      return m.text;
    }
    const r = mulberry32(m.seq * 7919);
    const words = item.name.replace(/\.[a-z0-9]+$/i, "").toLowerCase().split(/\s+/);
    const paras: string[] = [];
    const n = 3 + Math.floor(r() * 4);
    for (let p = 0; p < n; p++) {
      const len = 30 + Math.floor(r() * 40);
      const ws: string[] = [];
      for (let i = 0; i < len; i++) ws.push(r() < 0.08 ? words[Math.floor(r() * words.length)]! : VOCAB[Math.floor(r() * VOCAB.length)]!);
      const s = ws.join(" ");
      paras.push(s.charAt(0).toUpperCase() + s.slice(1) + ".");
    }
    m.text = `${item.name}\n\n${paras.join("\n\n")}`;
    return m.text;
  }

  function chunksOf(text: string): [number, number][] {
    const out: [number, number][] = [];
    for (let s = 0; s < text.length; s += CHUNK_CHARS) out.push([s, Math.min(text.length, s + CHUNK_CHARS)]);
    return out;
  }

  // ---------------------------------------------------------------- worker
  let timer: ReturnType<typeof setTimeout> | null = null;

  function limit(): number {
    return concurrencyOverride ?? queue.concurrency;
  }

  function hasWork(): boolean {
    return processing.size > 0 || (!queue.paused && pendingQueue.length > 0);
  }

  function wake() {
    if (timer !== null || speed <= 0) return;
    if (!hasWork()) return;
    timer = setTimeout(() => {
      timer = null;
      tick();
      wake();
    }, tickMs);
  }

  function stageFor(item: Item, progress: number): string {
    const table = item.kind === "url" ? URL_STAGES : FILE_STAGES;
    let s = table[0]![1];
    for (const [at, name] of table) if (progress >= at) s = name;
    return s;
  }

  function tick() {
    const now = Date.now();
    const sp = speed > 0 ? speed : 1;
    const runningBefore = processing.size;
    // start new jobs
    while (!queue.paused && processing.size < limit() && pendingQueue.length > 0) {
      const id = pendingQueue.shift()!;
      const it = items.get(id);
      if (!it || it.status !== "pending") continue;
      processing.add(id);
      const m = meta.get(id)!;
      m.startedAt = now;
      m.ticks = 0;
      update(id, { status: "processing", progress: 0, stage: stageFor(it, 0), attempts: it.attempts + 1, jobId: `j${m.seq}-${it.attempts + 1}`, error: null }, now);
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
      const step = (4 + rand() * 8) * sp / sizeFactor;
      const progress = Math.min(100, it.progress + step);
      if (progress < 100) {
        update(id, { progress: Math.floor(progress), stage: stageFor(it, progress) }, now);
        continue;
      }
      processing.delete(id);
      const seconds = Math.max(1, Math.round(m.ticks * 0.4));
      if (m.failuresLeft > 0) {
        m.failuresLeft -= 1;
        batchFailed += 1;
        update(id, { status: "failed", progress: 0, stage: null, error: it.kind === "url" ? pick(ERRORS.slice(1, 3).concat(ERRORS[5]!)) : pick([ERRORS[0]!, ERRORS[3]!, ERRORS[4]!]), jobId: null }, now);
      } else {
        batchCompleted += 1;
        durations.set(seconds, (durations.get(seconds) ?? 0) + 1);
        const text = docText(id);
        const key = `${it.kind}:${it.name}`;
        const orig = completedByName.get(key);
        const dup = orig && orig !== id && items.get(orig)?.status === "completed" ? orig : null;
        if (!dup) completedByName.set(key, id);
        update(id, { status: "completed", progress: 100, stage: null, error: null, jobId: null, chunkCount: chunksOf(text).length, duplicateOf: dup }, now);
      }
    }
    if (processing.size !== runningBefore || processing.size !== queue.running) {
      queue.running = processing.size;
      emit({ type: "queue", queue: { ...queue } });
    }
    if (batchActive && processing.size === 0 && (pendingQueue.length === 0 || queue.paused)) {
      if (pendingQueue.length === 0) {
        batchActive = false;
        emit({ type: "batchFinished", completed: batchCompleted, failed: batchFailed });
      }
    }
  }

  // ---------------------------------------------------------------- seeding
  function seedStates() {
    const now = Date.now();
    const mk = (p: Partial<Item> & Pick<Item, "kind" | "name" | "location">, minutesAgo: number) => newItem(p, now - minutesAgo * 60_000);
    mk({ kind: "file", name: "Annual report 2025.pdf", location: "/home/ada/Documents/Annual report 2025.pdf", mime: "application/pdf", size: 2_480_133, status: "completed", progress: 100, chunkCount: 184, attempts: 1 }, 180);
    const orig = mk({ kind: "url", name: "Local-first software", location: "https://www.inkandswitch.com/local-first/", mime: "text/html", status: "completed", progress: 100, chunkCount: 61, attempts: 1 }, 150);
    mk({ kind: "url", name: "Local-first software (copy)", location: "https://www.inkandswitch.com/local-first/?ref=hn", mime: "text/html", status: "completed", progress: 100, chunkCount: 61, attempts: 1, duplicateOf: orig.id }, 120);
    mk({ kind: "file", name: XSS_NAME, location: "/home/ada/Downloads/" + XSS_NAME, mime: "text/html", size: 1337, status: "completed", progress: 100, chunkCount: 2, attempts: 1 }, 90);
    mk({ kind: "file", name: "Scanned contract.pdf", location: "/home/ada/Documents/Scanned contract.pdf", mime: "application/pdf", size: 8_120_550, status: "failed", error: ERRORS[0]!, attempts: 3 }, 60);
    mk({ kind: "url", name: "https://example.com/missing-page", location: "https://example.com/missing-page", mime: null, status: "failed", error: ERRORS[1]!, attempts: 1 }, 45);
    const st = mk({ kind: "file", name: "Old notes.txt", location: "/home/ada/Notes/Old notes.txt", mime: "text/plain", size: 12_044 }, 25);
    const proc = mk({ kind: "file", name: "Lecture slides 07.pdf", location: "/home/ada/Uni/Lecture slides 07.pdf", mime: "application/pdf", size: 5_300_000, status: "processing", progress: 42, stage: "chunking", attempts: 1, jobId: "j-7" }, 2);
    const pend = mk({ kind: "url", name: "https://blog.rust-lang.org/2026/01/01/Rust-2026.html", location: "https://blog.rust-lang.org/2026/01/01/Rust-2026.html", mime: null }, 1);
    for (const [id, m] of meta) {
      const it = items.get(id)!;
      if (it.status === "completed") durations.set(m.seq + 2, (durations.get(m.seq + 2) ?? 0) + 1);
    }
    processing.add(proc.id);
    meta.get(proc.id)!.startedAt = now - 30_000;
    pendingQueue.push(st.id, pend.id);
    batchActive = true;
    queue.running = processing.size;
  }

  function seedMany(n: number) {
    const now = Date.now();
    const span = 30 * 24 * 3600_000;
    for (let i = 0; i < n; i++) {
      const addedMs = now - span + Math.floor((span * i) / n) - 60_000;
      const base = rand() < 0.75 ? randomFile() : randomUrl();
      const r = rand();
      const fromEnd = n - i;
      let status: Status = "completed";
      if (fromEnd <= 40) status = "pending";
      else if (r < 0.03) status = "failed";
      const p: Partial<Item> & Pick<Item, "kind" | "name" | "location"> = { ...base, status };
      if (status === "completed") {
        p.progress = 100;
        p.attempts = 1;
        p.chunkCount = 1 + Math.floor(rand() * 300);
        const sec = Math.max(1, Math.round(Math.exp(rand() * 2.2 + rand() * 1.2)));
        durations.set(sec, (durations.get(sec) ?? 0) + 1);
      } else if (status === "failed") {
        p.error = base.kind === "url" ? ERRORS[1 + Math.floor(rand() * 2)]! : pick([ERRORS[0]!, ERRORS[3]!, ERRORS[4]!]);
        p.attempts = 1 + Math.floor(rand() * 3);
      }
      const it = newItem(p, addedMs);
      if (status === "pending") pendingQueue.push(it.id);
      if (status === "completed" && !completedByName.has(`${it.kind}:${it.name}`)) completedByName.set(`${it.kind}:${it.name}`, it.id);
    }
    // a few stuck ones, > 10 minutes pending, oldest in the queue
    if (n > 0) batchActive = pendingQueue.length > 0;
  }

  if (o.seed === "states") seedStates();
  else if (typeof o.seed === "number" && o.seed > 0) seedMany(o.seed);
  wake();

  // ------------------------------------------------------------------ API
  function compactOrder() {
    if (order.length > items.size * 2 + 64) order = order.filter((id) => items.has(id));
  }

  function addItems(specs: (Pick<Item, "kind" | "name" | "location" | "mime" | "size">)[], opts: { fail?: boolean } = {}): Item[] {
    const now = Date.now();
    const added: Item[] = [];
    for (const s of specs) {
      const it = newItem(s, now);
      added.push(it);
      emit({ type: "itemAdded", item: it });
    }
    for (const it of added) enqueue(it.id, { fail: opts.fail || /always[- ]?fail/i.test(it.name) });
    return added;
  }

  const delay = <T>(v: T, ms = 30): Promise<T> => new Promise((res) => setTimeout(() => res(v), ms));

  const backend: FakeBackend = {
    async listItems(status: Status | null): Promise<Item[]> {
      const out: Item[] = [];
      for (let i = order.length - 1; i >= 0; i--) {
        const it = items.get(order[i]!);
        if (it && (status === null || it.status === status)) out.push(it);
      }
      return delay(out, 20);
    },

    async addFilesDialog(): Promise<AddReport> {
      const n = 1 + Math.floor(rand() * 4);
      const specs = Array.from({ length: n }, randomFile);
      return delay({ added: addItems(specs), skipped: [] }, 150);
    },

    async addFolderDialog(): Promise<AddReport> {
      const specs = Array.from({ length: 25 }, () => {
        const f = randomFile();
        return { ...f, location: f.location.replace("/Documents/", "/Documents/Projects/") };
      });
      const skipped = [
        { input: "/home/ada/Documents/Projects/.DS_Store", reason: "Hidden files are skipped." },
        { input: "/home/ada/Documents/Projects/photo.heic", reason: "This file type is not supported yet." },
      ];
      return delay({ added: addItems(specs), skipped }, 200);
    },

    async addUrls(urls: string[]): Promise<AddReport> {
      const skipped: AddReport["skipped"] = [];
      const specs: Pick<Item, "kind" | "name" | "location" | "mime" | "size">[] = [];
      const seen = new Set<string>();
      const existing = new Set<string>();
      for (const it of items.values()) if (it.kind === "url") existing.add(it.location);
      for (const raw of urls) {
        const input = raw.trim();
        if (!input) continue;
        let u: URL;
        try {
          u = new URL(input);
        } catch {
          skipped.push({ input, reason: "This is not a valid URL." });
          continue;
        }
        if (u.protocol !== "http:" && u.protocol !== "https:") {
          skipped.push({ input, reason: "Only http and https addresses can be added." });
          continue;
        }
        const href = u.href;
        if (seen.has(href)) {
          skipped.push({ input, reason: "Listed twice; added once." });
          continue;
        }
        if (existing.has(href)) {
          skipped.push({ input, reason: "Already in your library." });
          continue;
        }
        seen.add(href);
        specs.push({ kind: "url", name: href, location: href, mime: null, size: null });
      }
      return delay({ added: addItems(specs), skipped }, 60);
    },

    async retryItem(id: string): Promise<Item> {
      const it = items.get(id);
      if (!it) throw err("not_found", "This item no longer exists.");
      if (it.status !== "failed") throw err("invalid_state", "Only failed items can be retried.");
      const next = update(id, { status: "pending", progress: 0, stage: null, error: null, jobId: null });
      enqueue(id);
      return delay(next);
    },

    async retryAllFailed(): Promise<number> {
      let n = 0;
      for (const it of items.values()) {
        if (it.status === "failed") {
          update(it.id, { status: "pending", progress: 0, stage: null, error: null, jobId: null });
          enqueue(it.id);
          n += 1;
        }
      }
      return delay(n);
    },

    async deleteItem(id: string): Promise<void> {
      if (!items.has(id)) throw err("not_found", "This item no longer exists.");
      items.delete(id);
      processing.delete(id);
      const i = pendingQueue.indexOf(id);
      if (i >= 0) pendingQueue.splice(i, 1);
      emit({ type: "itemDeleted", id });
      compactOrder();
      return delay(undefined);
    },

    async overview(): Promise<Overview> {
      const counts = { pending: 0, processing: 0, completed: 0, failed: 0, total: 0 };
      const failed: Overview["failed"] = [];
      const stuck: Overview["stuck"] = [];
      const now = Date.now();
      for (let i = order.length - 1; i >= 0; i--) {
        const it = items.get(order[i]!);
        if (!it) continue;
        counts[it.status] += 1;
        counts.total += 1;
        if (it.status === "failed" && failed.length < 200) failed.push({ id: it.id, name: it.name, error: it.error ?? "Unknown error.", addedAt: it.addedAt });
        if (it.status === "pending") {
          const minutes = Math.floor((now - Date.parse(it.addedAt)) / 60_000);
          if (minutes >= 10) stuck.push({ id: it.id, name: it.name, addedAt: it.addedAt, minutesPending: minutes });
        }
      }
      stuck.sort((a, b) => b.minutesPending - a.minutesPending);
      const distribution: DurationBucket[] = [...durations.entries()].sort((a, b) => a[0] - b[0]).map(([seconds, count]) => ({ seconds, count }));
      return delay({ counts, failed, stuck: stuck.slice(0, 200), distribution, queue: { ...queue, running: processing.size } }, 25);
    },

    async setPaused(paused: boolean): Promise<QueueState> {
      queue.paused = paused;
      emit({ type: "queue", queue: { ...queue } });
      wake();
      return delay({ ...queue });
    },

    async setConcurrency(n: number): Promise<QueueState> {
      if (!Number.isInteger(n) || n < 1 || n > 8) throw err("invalid_argument", "Concurrency must be a whole number from 1 to 8.");
      queue.concurrency = n;
      emit({ type: "queue", queue: { ...queue } });
      wake();
      return delay({ ...queue });
    },

    async search(query: string, limitN: number): Promise<SearchResponse> {
      const terms = [...new Set(query.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0))];
      const hits: SearchHit[] = [];
      if (terms.length > 0) {
        for (const it of items.values()) {
          if (it.status !== "completed") continue;
          const text = docText(it.id);
          const lower = text.toLowerCase();
          const chunks = chunksOf(text);
          chunks.forEach(([s, e], ci) => {
            const seg = lower.slice(s, e);
            let score = 0;
            let first = -1;
            for (const t of terms) {
              let at = seg.indexOf(t);
              if (at >= 0 && (first < 0 || at < first)) first = at;
              while (at >= 0) {
                score += 1;
                at = seg.indexOf(t, at + t.length);
              }
            }
            if (score === 0) return;
            const m = meta.get(it.id)!;
            hits.push({
              itemId: it.id,
              name: it.name,
              location: it.location,
              chunkId: m.seq * 1000 + ci,
              snippet: makeSnippet(text.slice(s, e), terms, first),
              score: score / (1 + Math.log(1 + terms.length)),
            });
          });
        }
      }
      hits.sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
      const top = hits.slice(0, limitN);
      if (model === "none") {
        return delay({ hits: top, mode: "keyword", notice: "Semantic search is off: no embedding model installed", canBuildIndex: false }, 40);
      }
      if (model === "unindexed") {
        return delay(
          { hits: top, mode: "hybrid", notice: "The semantic index is empty for this model: build it to search by meaning.", canBuildIndex: true },
          40,
        );
      }
      return delay({ hits: top, mode: "hybrid", notice: null, canBuildIndex: false }, 40);
    },

    async buildSemanticIndex(): Promise<number> {
      if (model === "none") throw err("invalid", "no embedding model is installed");
      model = "indexed";
      let n = 0;
      for (const it of items.values()) if (it.status === "completed") n += it.chunkCount;
      return delay(n, 120);
    },

    async refreshLinks(): Promise<number> {
      let n = 0;
      for (const it of items.values()) {
        if (it.kind === "url" && (it.status === "completed" || it.status === "failed")) {
          update(it.id, { status: "pending", progress: 0, stage: null, error: null, jobId: null });
          enqueue(it.id);
          n += 1;
        }
      }
      return delay(n);
    },

    async openChunk(chunkId: number): Promise<ChunkView> {
      const id = bySeq.get(Math.floor(chunkId / 1000));
      const it = id ? items.get(id) : undefined;
      if (!it || !id) throw err("not_found", "This document is no longer in your library.");
      const text = docText(id);
      const ch = chunksOf(text)[chunkId % 1000];
      if (!ch) throw err("not_found", "This passage no longer exists.");
      return delay({ itemId: id, name: it.name, location: it.location, text, start: ch[0], end: ch[1] });
    },

    onEvents(cb: (b: EngineEvent[]) => void): () => void {
      eventListeners.add(cb);
      return () => eventListeners.delete(cb);
    },

    onDragState(cb: (s: DragState) => void): () => void {
      dragListeners.add(cb);
      return () => dragListeners.delete(cb);
    },

    hooks: undefined as unknown as FakeTestHooks,
    exposeTestHooks(w: Window) {
      w.__troveFake = hooks;
      installHtmlDragSimulation(w);
    },
  };

  function makeSnippet(seg: string, terms: string[], first: number): string {
    const from = Math.max(0, first - 60);
    let s = seg.slice(from, from + 160).replace(/\s+/g, " ");
    const re = new RegExp(`(${terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
    s = s.replace(re, "\u0002$1\u0003");
    return (from > 0 ? "… " : "") + s + (from + 160 < seg.length ? " …" : "");
  }

  function dragEmit(state: DragState["state"], count: number) {
    for (const l of dragListeners) l({ state, count });
  }

  /** In a plain browser, real file drags become fake drag states + fake items. */
  function installHtmlDragSimulation(w: Window) {
    let depth = 0;
    const isFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
    w.addEventListener("dragenter", (e) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      depth += 1;
      if (depth === 1) dragEmit("enter", e.dataTransfer?.items.length ?? 0);
    });
    w.addEventListener("dragover", (e) => {
      if (!isFiles(e)) return;
      e.preventDefault();
    });
    w.addEventListener("dragleave", (e) => {
      if (!isFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) dragEmit("leave", 0);
    });
    w.addEventListener("drop", (e) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      depth = 0;
      const files = Array.from(e.dataTransfer?.files ?? []);
      dragEmit("drop", files.length);
      addItems(files.map((f) => ({ kind: "file" as const, name: f.name, location: `/dropped/${f.name}`, mime: f.type || null, size: f.size })));
    });
  }

  const hooks: FakeTestHooks = {
    drag: dragEmit,
    drop(n, opts = {}) {
      dragEmit("drop", n);
      return addItems(Array.from({ length: n }, randomFile), opts).map((i) => i.id);
    },
    addFiles(n, opts = {}) {
      const specs = Array.from({ length: n }, () => {
        const f = randomFile();
        return opts.name ? { ...f, name: opts.name, location: `/home/ada/${opts.name}` } : f;
      });
      return addItems(specs, opts).map((i) => i.id);
    },
    burst(batches, perBatch) {
      for (let b = 0; b < batches; b++) {
        const specs = Array.from({ length: perBatch }, randomFile);
        const now = Date.now();
        const batch: EngineEvent[] = specs.map((sp) => ({ type: "itemAdded", item: newItem(sp, now) }));
        for (const l of eventListeners) l(batch);
      }
    },
    step(n = 1) {
      for (let i = 0; i < n; i++) tick();
    },
    configure(c) {
      if (c.speed !== undefined) speed = Math.max(0, c.speed);
      if (c.concurrencyOverride !== undefined) concurrencyOverride = c.concurrencyOverride;
      if (c.failRate !== undefined) failRate = c.failRate;
      if (c.tickMs !== undefined) tickMs = Math.max(1, c.tickMs);
      wake();
    },
    setStatus(id, status, error) {
      update(id, { status, error: status === "failed" ? error ?? "Forced failure." : null, progress: status === "completed" ? 100 : 0 });
    },
    count: () => items.size,
    backend,
  };
  backend.hooks = hooks;
  return backend;
}

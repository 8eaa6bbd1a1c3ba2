// The fake engine's state (what SQLite holds in Rust) and its event outbox.
import type { AskTurn, DragState, DropOutcome, EngineEvent, Item, QueueState } from "../types";
import { iso, mulberry32 } from "./data";
import type { FakeOptions } from "./options";

/** The fields a new file or link is created with. */
export type ItemSpec = Pick<Item, "kind" | "name" | "location" | "mime" | "size">;
/** A seeded item: any field, kind/name/location required. */
export type ItemSeed = Partial<Item> & Pick<Item, "kind" | "name" | "location">;

export interface Meta {
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

/** What a later rescan of a folder finds changed on "disk" (hooks: `changeFolder`). */
export interface FolderChanges {
  added: number;
  changed: number;
  removed: number;
  renamed: number;
}

/** A watched folder as the fake keeps it (`Folder` is computed from it). */
export interface FakeFolder {
  id: number;
  path: string;
  include: string[];
  exclude: string[];
  watching: boolean;
  state: "ok" | "unavailable" | "polling";
  message: string | null;
  /** the folder is not there (unplugged): a scan changes nothing and says so */
  gone: boolean;
  /** ids of its items (deleted ones are skipped when counting) */
  items: string[];
  /**
   * The files on "disk" under it, by path: also those its rules leave out (a rules change
   * lets them in) and not those deleted (their items are removed or kept as missing).
   */
  disk: Map<string, ItemSpec>;
  skipped: Record<string, number>;
  lastScanAt: number | null;
  lastScanMs: number | null;
  /** staged for the next scan */
  pending: FolderChanges;
}

export interface FakeState {
  rand: () => number;
  pick: <T>(a: readonly T[]) => T;
  items: Map<string, Item>;
  meta: Map<string, Meta>;
  bySeq: Map<number, string>;
  /** insertion order, oldest first (ids; deleted ones are skipped lazily) */
  order: string[];
  pendingQueue: string[];
  processing: Set<string>;
  /** processing seconds → count */
  durations: Map<number, number>;
  /** "kind:name" → first completed item with that name (duplicate detection stand-in) */
  completedByName: Map<string, string>;
  seq: number;
  queue: QueueState;
  speed: number;
  model: FakeOptions["model"];
  /** the embedder's model id (changes with the embedder settings) */
  modelId: string;
  /** the local model is installed (`?model=` other than none) */
  localModel: boolean;
  /** model ids the library has vectors of (vectors are kept per model, as in the engine) */
  indexedModels: Set<string>;
  tickMs: number;
  concurrencyOverride: number | null;
  failRate: number;
  batch: { active: boolean; completed: number; failed: number };
  timer: ReturnType<typeof setTimeout> | null;
  listeners: {
    events: Set<(b: EngineEvent[]) => void>;
    drag: Set<(s: DragState) => void>;
    dropped: Set<(o: DropOutcome) => void>;
  };
  outbox: EngineEvent[];
  flushScheduled: boolean;
  /** the native file dialogs the app asked for ("files" | "folder"), oldest first */
  dialogs: string[];
  /** the queries `search` was asked, oldest first (what the UI composed from box and filters) */
  searches: string[];
  /** watched folders by id (ascending, as `list_folders` orders them) */
  folders: Map<number, FakeFolder>;
  folderSeq: number;
  /** saved settings by name (what `set_setting` stored; absent: the default) */
  settings: Map<string, string>;
  /** the questions `ask` was asked and the history sent with each, oldest first */
  asks: { question: string; history: AskTurn[] }[];
  /** how the fake answer endpoint behaves (hooks: `configureAsk`, `resumeAsk`) */
  ask: AskBehaviour;
}

/** The fake answer endpoint: its pace, a failure, a pause in the middle of an answer. */
export interface AskBehaviour {
  /** milliseconds before each token */
  tokenMs: number;
  /** the endpoint fails with this sentence (`{endpoint}` is replaced by its address); null: it answers */
  error: string | null;
  /** what the model writes instead of the canned answer (`{question}` is replaced by the question) */
  answer: string | null;
  /** stop after this many tokens until `resumeAsk()` (null: never) */
  pauseAfter: number | null;
  /** answers waiting at the pause */
  waiting: (() => void)[];
}

export function createState(o: FakeOptions): FakeState {
  const rand = mulberry32(o.randomSeed);
  return {
    rand,
    pick: <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!,
    items: new Map(),
    meta: new Map(),
    bySeq: new Map(),
    order: [],
    pendingQueue: [],
    processing: new Set(),
    durations: new Map(),
    completedByName: new Map(),
    seq: 0,
    queue: { paused: o.paused, concurrency: o.concurrency, running: 0, problem: null },
    speed: o.speed,
    model: o.model,
    modelId: LOCAL_MODEL_ID,
    localModel: o.model !== "none",
    indexedModels: new Set(o.model === "indexed" ? [LOCAL_MODEL_ID] : []),
    tickMs: 100,
    concurrencyOverride: null,
    failRate: o.failRate,
    batch: { active: false, completed: 0, failed: 0 },
    timer: null,
    listeners: { events: new Set(), drag: new Set(), dropped: new Set() },
    outbox: [],
    flushScheduled: false,
    dialogs: [],
    searches: [],
    folders: new Map(),
    folderSeq: 0,
    settings: new Map(),
    asks: [],
    ask: { tokenMs: 40, error: null, answer: null, pauseAfter: null, waiting: [] },
  };
}

export const LOCAL_MODEL_ID = "local:all-MiniLM-L6-v2";

/** Queue an event; the outbox is delivered asynchronously, like IPC, and batched. */
export function emit(s: FakeState, ev: EngineEvent) {
  s.outbox.push(ev);
  if (!s.flushScheduled) {
    s.flushScheduled = true;
    setTimeout(() => {
      s.flushScheduled = false;
      const batch = s.outbox;
      s.outbox = [];
      for (const l of s.listeners.events) l(batch);
    }, 0);
  }
}

export function put(s: FakeState, item: Item, kind: "itemAdded" | "itemUpdated" | null) {
  s.items.set(item.id, item);
  if (kind) emit(s, { type: kind, item });
}

export function update(s: FakeState, id: string, patch: Partial<Item>, now = Date.now()): Item {
  const cur = s.items.get(id)!;
  const next: Item = { ...cur, ...patch, updatedAt: iso(now) };
  put(s, next, "itemUpdated");
  return next;
}

/** Insert a row (no event: callers decide). */
export function newItem(s: FakeState, partial: ItemSeed, addedMs: number): Item {
  s.seq += 1;
  const seq = s.seq;
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
    extractor: null,
    missingSince: partial.missingSince ?? null,
    metadata: partial.metadata ?? [],
  };
  s.items.set(id, item);
  s.meta.set(id, { seq, failuresLeft: 0, alwaysFail: false, startedAt: 0, ticks: 0, text: null });
  s.bySeq.set(seq, id);
  s.order.push(id);
  return item;
}

/** Delete a row now (its job too) and emit `itemDeleted`, as `delete_item` does. */
export function removeItem(s: FakeState, id: string) {
  s.items.delete(id);
  s.processing.delete(id);
  const i = s.pendingQueue.indexOf(id);
  if (i >= 0) s.pendingQueue.splice(i, 1);
  emit(s, { type: "itemDeleted", id });
  compactOrder(s);
}

/** Drop deleted ids from `order` once they dominate it. */
export function compactOrder(s: FakeState) {
  if (s.order.length > s.items.size * 2 + 64) s.order = s.order.filter((id) => s.items.has(id));
}

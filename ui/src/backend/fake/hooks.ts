// `window.__troveFake`: test hooks that drive the simulation (see TESTING.md).
import type { AskTurn, Backend, DragState, EngineEvent, Folder, Status } from "../types";
import { randomFile } from "./content";
import { type DropOptions, dragEmit, dropFiles } from "./drop";
import { changeFolder, folderView, setFolderState, setMissing } from "./folders";
import { opened } from "./settings";
import { type AskBehaviour, type FakeFolder, type FakeState, type FolderChanges, newItem, update } from "./state";
import { addItems, tick, wake } from "./worker";

export interface FakeTestHooks {
  /** simulate Tauri's drag-drop window events */
  drag(state: DragState["state"], count: number): void;
  /**
   * simulate a drop of n files: drag state "drop", the files added as Rust
   * would, then the drop outcome (skipped inputs, or `error`); returns the new ids
   */
  drop(n: number, opts?: DropOptions): string[];
  /** add n files directly */
  addFiles(n: number, opts?: { fail?: boolean; name?: string }): string[];
  /** deliver `batches` separate event batches of `perBatch` new files each, synchronously (an IPC burst) */
  burst(batches: number, perBatch: number): void;
  /** advance the simulation by n ticks (works when frozen too) */
  step(n?: number): void;
  /** change speed (0 = frozen) and optional concurrency override (may exceed LIMITS, for perf runs) */
  configure(o: { speed?: number; concurrencyOverride?: number | null; failRate?: number; tickMs?: number }): void;
  /** force an item into a state, for tests */
  setStatus(id: string, status: Status, error?: string): void;
  /** what the worker pool reports as a database problem (null: none), as Rust's QueueState.problem */
  setProblem(problem: string | null): void;
  count(): number;
  /** the commands "open" would have started, oldest first */
  opened(): string[][];
  /** the native file dialogs the app opened ("files" or "folder"), oldest first */
  dialogs(): string[];
  /** the queries `search` was asked (box text and filter tokens as sent), oldest first */
  searches(): string[];
  /** the watched folders, as `list_folders` returns them */
  folders(): Folder[];
  /**
   * what the watcher found: "unavailable" (the folder is not there; a rescan changes nothing
   * until it is "ok" again), "polling" (inotify limit: checked every minute) or "ok";
   * `message` defaults to the engine's sentence
   */
  setFolderState(id: number, state: FakeFolder["state"], message?: string | null): void;
  /** stage what the next rescan of a folder finds on disk: new, changed, deleted, moved files */
  changeFolder(id: number, changes: Partial<FolderChanges>): void;
  /**
   * mark an item's file deleted and the item kept (`missingSince`, as a scan with the
   * keep-missing setting does); `since` defaults to now, null clears it
   */
  setMissing(id: string, since?: string | null): void;
  /** what an item's format says about it (an e-mail's From, To, Date), as the engine reports it */
  setMetadata(id: string, fields: { label: string; value: string }[]): void;
  /** the files on a folder's "disk" (also those its rules leave out), sorted */
  folderFiles(id: number): string[];
  /**
   * how the answer endpoint behaves (set chat-url to have one): `tokenMs` before each token
   * (default 40), `error` a sentence it fails with instead of answering (`{endpoint}` becomes
   * its address; null: it answers), `answer` what it writes instead of the canned answer
   * (`{question}` becomes the question; null: the canned one, citing [1] and [2]),
   * `pauseAfter` tokens after which an answer waits for `resumeAsk()` (null: none)
   */
  configureAsk(o: Partial<Omit<AskBehaviour, "waiting">>): void;
  /** let answers waiting at `pauseAfter` go on */
  resumeAsk(): void;
  /** the questions `ask` was asked, with the history sent along, oldest first */
  asks(): { question: string; history: AskTurn[] }[];
  backend: Backend;
}

export function createHooks(s: FakeState, backend: Backend): FakeTestHooks {
  return {
    drag: (state, count) => dragEmit(s, state, count),
    drop(n, opts = {}) {
      return dropFiles(
        s,
        Array.from({ length: n }, () => randomFile(s)),
        opts,
      );
    },
    addFiles(n, opts = {}) {
      const specs = Array.from({ length: n }, () => {
        const f = randomFile(s);
        return opts.name ? { ...f, name: opts.name, location: `/home/ada/${opts.name}` } : f;
      });
      return addItems(s, specs, opts).map((i) => i.id);
    },
    burst(batches, perBatch) {
      for (let b = 0; b < batches; b++) {
        const specs = Array.from({ length: perBatch }, () => randomFile(s));
        const now = Date.now();
        const batch: EngineEvent[] = specs.map((sp) => ({ type: "itemAdded", item: newItem(s, sp, now) }));
        for (const l of s.listeners.events) l(batch);
      }
    },
    step(n = 1) {
      for (let i = 0; i < n; i++) tick(s);
    },
    setProblem(problem) {
      s.queue = { ...s.queue, problem };
    },
    configure(c) {
      if (c.speed !== undefined) s.speed = Math.max(0, c.speed);
      if (c.concurrencyOverride !== undefined) s.concurrencyOverride = c.concurrencyOverride;
      if (c.failRate !== undefined) s.failRate = c.failRate;
      if (c.tickMs !== undefined) s.tickMs = Math.max(1, c.tickMs);
      wake(s);
    },
    setStatus(id, status, error) {
      update(s, id, {
        status,
        error: status === "failed" ? (error ?? "Forced failure.") : null,
        progress: status === "completed" ? 100 : 0,
      });
    },
    count: () => s.items.size,
    opened: () => opened.map((c) => [...c]),
    dialogs: () => [...s.dialogs],
    searches: () => [...s.searches],
    folders: () => [...s.folders.values()].sort((a, b) => a.id - b.id).map((f) => folderView(s, f)),
    setFolderState: (id, state, message) => setFolderState(s, id, state, message),
    changeFolder: (id, changes) => changeFolder(s, id, changes),
    setMissing: (id, since) => setMissing(s, id, since),
    setMetadata: (id, fields) => {
      if (s.items.has(id)) update(s, id, { metadata: fields.map((f) => ({ ...f })) });
    },
    folderFiles: (id) => [...(s.folders.get(id)?.disk.keys() ?? [])].sort(),
    configureAsk(o) {
      if (o.tokenMs !== undefined) s.ask.tokenMs = Math.max(0, o.tokenMs);
      if (o.error !== undefined) s.ask.error = o.error;
      if (o.answer !== undefined) s.ask.answer = o.answer;
      if (o.pauseAfter !== undefined) s.ask.pauseAfter = o.pauseAfter;
    },
    resumeAsk() {
      for (const go of s.ask.waiting.splice(0)) go();
    },
    asks: () => s.asks.map((a) => ({ question: a.question, history: a.history.map((t) => ({ ...t })) })),
    backend,
  };
}

// Shapes shared with the Rust side. The wire types are GENERATED from the Rust
// types into `src/bindings.ts` (ts-rs; `cargo test -p trove bindings` fails when it
// drifts); every other module imports them from here. Field names are part of the
// contract: camelCase.
import type {
  AddReport,
  AppError,
  AskAnswer,
  AskEvent,
  AskTurn,
  ChunkView,
  Coverage,
  DropOutcome,
  EngineEvent,
  Folder,
  Item,
  Overview,
  QueueState,
  ScanReport,
  SearchResponse,
  SettingsView,
  Status,
} from "../bindings";

export type {
  AddReport,
  AppError,
  AskAnswer,
  AskEvent,
  AskPassage,
  AskTurn,
  ChunkView,
  Counts,
  Coverage,
  DropOutcome,
  DurationBucket,
  EngineEvent,
  ErrorCode,
  FailedRow,
  Folder,
  Item,
  ItemKind,
  Overview,
  QueueState,
  ScanReport,
  SearchHit,
  SearchMode,
  SearchResponse,
  SettingsView,
  SettingView,
  Skipped,
  Status,
  StuckRow,
} from "../bindings";
/** The engine's limits and every error code it sends, generated from Rust. */
export { ERROR_CODES, LIMITS } from "../bindings";

export type DragState = { state: "enter" | "over" | "leave" | "drop"; count: number };

export interface Backend {
  /** newest first */
  listItems(status: Status | null): Promise<Item[]>;
  /** native "Add files…" dialog opened by Rust; files chosen there are added */
  addFilesDialog(): Promise<AddReport>;
  /**
   * native "Add folder…" dialog; the folder chosen is WATCHED (its files added now and kept in
   * sync) unless the folder-sync setting is off (then its files are added once)
   */
  addFolderDialog(): Promise<AddReport>;
  /** every watched folder: files, what was left out, state, last scan */
  listFolders(): Promise<Folder[]>;
  /** watch a folder (globs: include = only these, exclude = leave out); scans it once now */
  addFolder(path: string, include: string[], exclude: string[]): Promise<ScanReport>;
  /** stop watching; its items are removed too unless `keepItems` */
  removeFolder(id: number, keepItems: boolean): Promise<void>;
  /** look for changes in a folder now */
  rescanFolder(id: number): Promise<ScanReport>;
  /**
   * new include/exclude globs for a folder; it is rescanned with them (files they leave out
   * are removed, files they let in added). A bad glob rejects (`invalid`, "not a valid pattern: …")
   */
  setFolderRules(id: number, include: string[], exclude: string[]): Promise<Folder>;
  /** pause (false) or resume following a folder's changes */
  setFolderWatching(id: number, watching: boolean): Promise<Folder>;
  /** invalid ones come back in skipped with a reason */
  addUrls(urls: string[]): Promise<AddReport>;
  retryItem(id: string): Promise<Item>;
  retryAllFailed(): Promise<number>;
  deleteItem(id: string): Promise<void>;
  overview(): Promise<Overview>;
  setPaused(paused: boolean): Promise<QueueState>;
  setConcurrency(n: number): Promise<QueueState>;
  /** the query syntax is the engine's (`"phrase"`, `prefix*`, `-word`, `type:`, `in:`, `after:`, `before:`) */
  search(query: string, limit: number): Promise<SearchResponse>;
  /**
   * "more like this": passages of other documents nearest in meaning to a passage (rejects without
   * vectors), among what the filters of `filters` (the search syntax: `type:`, `in:`, `after:`,
   * `before:`, `-word`; its plain words are ignored) let through
   */
  similar(chunkId: number, limit: number, filters: string): Promise<SearchResponse>;
  openChunk(chunkId: number): Promise<ChunkView>;
  /**
   * Answer a question from the library: `onEvent` first gets one `passages` event (the numbered
   * passages the answer may cite, whether any is close, whether an answer will be written), then
   * the answer's `token`s as they come; resolves with the whole outcome. An endpoint that fails
   * resolves with `error` set (the passages stay); only a refused question rejects.
   */
  ask(question: string, history: AskTurn[], onEvent: (e: AskEvent) => void): Promise<AskAnswer>;
  /** fetch every link again; returns how many were queued */
  refreshLinks(): Promise<number>;
  /** embed what the installed model has no vectors for; returns how many were computed */
  buildSemanticIndex(): Promise<number>;
  /** passages with a vector of the model in use, of all passages (null: no model); polled while building */
  semanticCoverage(): Promise<Coverage | null>;
  /** open with the desktop's application (a PDF at `page`; `reveal`: its folder); returns the command started */
  openItem(id: string, page: number | null, reveal: boolean): Promise<string[]>;
  /** the folder holding the database, in the file manager */
  openDataFolder(): Promise<void>;
  /** the folder of the app's log files, in the file manager */
  openLogFolder(): Promise<void>;
  getSettings(): Promise<SettingsView>;
  /** null: back to the default; rejects with `invalid` and a sentence for a bad value */
  setSetting(name: string, value: string | null): Promise<SettingsView>;
  /** events arrive BATCHED (arrays); returns unsubscribe */
  onEvents(cb: (batch: EngineEvent[]) => void): () => void;
  /** from Tauri's drag-drop window events; the drop itself is handled in Rust */
  onDragState(cb: (s: DragState) => void): () => void;
  /** what Rust added for each drop (the dialogs' AddReport) or why it could not; returns unsubscribe */
  onDropped(cb: (outcome: DropOutcome) => void): () => void;
}

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as AppError).code === "string" &&
    typeof (e as AppError).message === "string"
  );
}

/** A human sentence for any rejection (AppError, Error, string, …). */
export function errorMessage(e: unknown): string {
  if (isAppError(e)) return e.message;
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  return "Something went wrong.";
}

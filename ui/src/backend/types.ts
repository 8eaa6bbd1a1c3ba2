// Shapes shared with the Rust side. The Rust side will later generate
// `src/bindings.ts` (ts-rs/specta) with exactly these shapes; until then they
// live here. Field names are part of the contract: keep them camelCase and
// unchanged.

export type ItemKind = "file" | "url";
export type Status = "pending" | "processing" | "completed" | "failed";

export interface Item {
  /** "f12" for a file, "u7" for a URL */
  id: string;
  kind: ItemKind;
  /** file name, or page title, or URL */
  name: string;
  /** absolute path or URL */
  location: string;
  mime: string | null;
  /** bytes */
  size: number | null;
  status: Status;
  /** 0..100 */
  progress: number;
  /** "extracting" | "chunking" | "embedding" | "indexing" | "fetching" */
  stage: string | null;
  /** processing_error, a human sentence */
  error: string | null;
  jobId: string | null;
  attempts: number;
  maxAttempts: number;
  chunkCount: number;
  /** id of the item with identical content */
  duplicateOf: string | null;
  /** RFC3339 UTC */
  addedAt: string;
  updatedAt: string;
}

export interface AddReport {
  added: Item[];
  skipped: { input: string; reason: string }[];
}

export interface Counts {
  pending: number;
  processing: number;
  completed: number;
  failed: number;
  total: number;
}

export interface FailedRow {
  id: string;
  name: string;
  error: string;
  addedAt: string;
}

export interface StuckRow {
  id: string;
  name: string;
  addedAt: string;
  minutesPending: number;
}

/** processing_seconds → count, completed items */
export interface DurationBucket {
  seconds: number;
  count: number;
}

export interface QueueState {
  paused: boolean;
  concurrency: number;
  running: number;
}

export interface Overview {
  counts: Counts;
  failed: FailedRow[];
  stuck: StuckRow[];
  distribution: DurationBucket[];
  queue: QueueState;
}

export interface SearchHit {
  itemId: string;
  name: string;
  location: string;
  chunkId: number;
  /** highlighted terms are wrapped in \u0002 … \u0003 control characters */
  snippet: string;
  score: number;
}

export interface SearchResponse {
  hits: SearchHit[];
  mode: "keyword" | "semantic" | "hybrid";
  /** e.g. "Semantic search is off: no embedding model installed" */
  notice: string | null;
}

export interface ChunkView {
  itemId: string;
  name: string;
  location: string;
  /** the whole document text */
  text: string;
  /** the chunk's char range inside text (UTF-16 code units) */
  start: number;
  end: number;
}

/** every rejected call rejects with this */
export interface AppError {
  code: string;
  message: string;
}

export type EngineEvent =
  | { type: "itemAdded"; item: Item }
  /** status/progress/error changes; the full row */
  | { type: "itemUpdated"; item: Item }
  | { type: "itemDeleted"; id: string }
  | { type: "queue"; queue: QueueState }
  | { type: "batchFinished"; completed: number; failed: number };

export type DragState = { state: "enter" | "over" | "leave" | "drop"; count: number };

export interface Backend {
  /** newest first */
  listItems(status: Status | null): Promise<Item[]>;
  /** native "Add files…" dialog opened by Rust; files chosen there are added */
  addFilesDialog(): Promise<AddReport>;
  addFolderDialog(): Promise<AddReport>;
  /** invalid ones come back in skipped with a reason */
  addUrls(urls: string[]): Promise<AddReport>;
  retryItem(id: string): Promise<Item>;
  retryAllFailed(): Promise<number>;
  deleteItem(id: string): Promise<void>;
  overview(): Promise<Overview>;
  setPaused(paused: boolean): Promise<QueueState>;
  setConcurrency(n: number): Promise<QueueState>;
  search(query: string, limit: number): Promise<SearchResponse>;
  openChunk(chunkId: number): Promise<ChunkView>;
  /** events arrive BATCHED (arrays); returns unsubscribe */
  onEvents(cb: (batch: EngineEvent[]) => void): () => void;
  /** from Tauri's drag-drop window events; the drop itself is handled in Rust */
  onDragState(cb: (s: DragState) => void): () => void;
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

// Drag and drop as Tauri + Rust do it: drag states from the window, then the
// drop is added "in Rust" and its outcome (the dialogs' AddReport, or an
// AppError) arrives on its own channel.
import type { AppError, DragState, DropOutcome, Skipped } from "../types";
import type { FakeState, ItemSpec } from "./state";
import { addItems } from "./worker";

export function dragEmit(s: FakeState, state: DragState["state"], count: number) {
  for (const l of s.listeners.drag) l({ state, count });
}

/** Deliver a drop outcome asynchronously, like a Tauri event. */
function emitDropped(s: FakeState, outcome: DropOutcome) {
  setTimeout(() => {
    for (const l of s.listeners.dropped) l(outcome);
  }, 0);
}

export interface DropOptions {
  /** every dropped file fails when processed */
  fail?: boolean;
  /** extra inputs the engine refused (e.g. a socket: "not a regular file or folder") */
  skipped?: Skipped[];
  /** the whole drop fails (nothing is added), e.g. the database is unavailable */
  error?: AppError;
}

/**
 * Emit the "drop" drag state, add what was dropped and report it. Returns the
 * new ids. With `dedupe`, paths already in the library are skipped as
 * `add_paths` does (real page drops; the test hook always adds `n` files).
 */
export function dropFiles(s: FakeState, specs: ItemSpec[], opts: DropOptions = {}, dedupe = false): string[] {
  dragEmit(s, "drop", specs.length + (opts.skipped?.length ?? 0));
  if (opts.error) {
    emitDropped(s, { type: "failed", error: opts.error });
    return [];
  }
  const skipped: Skipped[] = [];
  const fresh: ItemSpec[] = [];
  const known = new Map<string, string>();
  if (dedupe) for (const it of s.items.values()) if (it.kind === "file") known.set(it.location, it.id);
  for (const spec of specs) {
    const id = known.get(spec.location);
    if (id) skipped.push({ input: spec.location, reason: `already in the library as ${id}` });
    else fresh.push(spec);
  }
  skipped.push(...(opts.skipped ?? []));
  const added = addItems(s, fresh, { fail: opts.fail });
  emitDropped(s, { type: "added", report: { added, skipped } });
  return added.map((i) => i.id);
}

/** In a plain browser, real file drags become fake drag states + a fake drop. */
export function installHtmlDragSimulation(s: FakeState, w: Window) {
  let depth = 0;
  const isFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files");
  w.addEventListener("dragenter", (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    depth += 1;
    if (depth === 1) dragEmit(s, "enter", e.dataTransfer?.items.length ?? 0);
  });
  w.addEventListener("dragover", (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
  });
  w.addEventListener("dragleave", (e) => {
    if (!isFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) dragEmit(s, "leave", 0);
  });
  w.addEventListener("drop", (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    depth = 0;
    const files = Array.from(e.dataTransfer?.files ?? []);
    dropFiles(
      s,
      files.map((f) => ({
        kind: "file",
        name: f.name,
        location: `/dropped/${f.name}`,
        mime: f.type || null,
        size: f.size,
      })),
      {},
      true,
    );
  });
}

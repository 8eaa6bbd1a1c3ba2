// In-memory Backend used in a plain browser (dev, demos, browser tests).
// It simulates the Rust worker: pending → processing (stage + progress) →
// completed (chunks) or failed (human error), emitting BATCHED events just
// like `trove://events`, plus the drag state Tauri would report and the
// outcome of a drop (`trove://dropped`). Limits and error codes come from the
// generated bindings, so it cannot drift from the engine.
//
//   options.ts  URL query → FakeOptions        state.ts    the rows, queue and event outbox
//   data.ts     names, errors, PRNG            content.ts  generated files, links, texts
//   worker.ts   the simulated worker           seed.ts     ?fake=states / seed-N
//   library.ts  list/add/retry/delete/refresh  queue.ts    overview, pause, concurrency
//   search.ts   search, similar, index, chunk  drop.ts     drag states and drops
//   query.ts    the engine's query syntax
//   settings.ts settings, open item/folder   folders.ts  watched folders (+ the folder dialog)
//   ask.ts      ask: passages from search, a canned streamed answer (chat-url set)
//   hooks.ts    window.__troveFake
import type { Backend, DragState, DropOutcome, EngineEvent } from "../types";
import { askCommands } from "./ask";
import { installHtmlDragSimulation } from "./drop";
import { folderCommands } from "./folders";
import { createHooks, type FakeTestHooks } from "./hooks";
import { libraryCommands } from "./library";
import { DEFAULT_FAKE_OPTIONS, type FakeOptions } from "./options";
import { queueCommands } from "./queue";
import { searchCommands } from "./search";
import { seedMany, seedStates } from "./seed";
import { settingsCommands } from "./settings";
import { createState } from "./state";
import { wake } from "./worker";

export { XSS_NAME, XSS_TEXT } from "./data";
export type { DropOptions } from "./drop";
export type { FakeTestHooks } from "./hooks";
export { DEFAULT_FAKE_OPTIONS, type FakeOptions, fakeOptionsFromQuery } from "./options";

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
  const s = createState(o);
  if (o.seed === "states") seedStates(s);
  else if (typeof o.seed === "number" && o.seed > 0) seedMany(s, o.seed);
  wake(s);

  const subscribe =
    <T>(set: Set<(v: T) => void>) =>
    (cb: (v: T) => void): (() => void) => {
      set.add(cb);
      return () => set.delete(cb);
    };

  const commands: Backend = {
    ...libraryCommands(s),
    ...folderCommands(s),
    ...queueCommands(s),
    ...searchCommands(s),
    ...askCommands(s),
    ...settingsCommands(s),
    onEvents: subscribe<EngineEvent[]>(s.listeners.events),
    onDragState: subscribe<DragState>(s.listeners.drag),
    onDropped: subscribe<DropOutcome>(s.listeners.dropped),
  };
  const backend: FakeBackend = {
    ...commands,
    hooks: undefined as unknown as FakeTestHooks,
    exposeTestHooks(w: Window) {
      w.__troveFake = backend.hooks;
      installHtmlDragSimulation(s, w);
    },
  };
  backend.hooks = createHooks(s, backend);
  return backend;
}

import type { Backend, Overview, QueueState, Status } from "../backend/types";
import type { ItemStore } from "../lib/store";
import type { Toaster } from "./toast";

/** The views the tabs switch between. */
export type ViewName = "library" | "search" | "ask";

/** Shared app services handed to every view. */
export interface Ctx {
  backend: Backend;
  store: ItemStore;
  toast: Toaster;
  queue: QueueState | null;
  overview: Overview | null;
  actions: {
    retry(id: string): void;
    retryAll(): void;
    refreshLinks(): void;
    remove(id: string): void;
    removeMany(ids: string[]): void;
    retryMany(ids: string[]): void;
    details(id: string): void;
    addFiles(): void;
    /** the native folder dialog; the folder picked is watched (resolves once reported) */
    addFolder(): Promise<void>;
    addUrls(): void;
    setFilter(s: Status | null): void;
    reveal(id: string): void;
    showView(v: ViewName): void;
    /** the Settings dialog, with one setting's control focused (by name, e.g. "chat-url") */
    openSettings(focus?: string): void;
  };
}

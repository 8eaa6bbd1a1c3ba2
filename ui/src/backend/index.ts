import type { Backend } from "./types";

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

/** True inside the Tauri webview. */
export function inTauri(): boolean {
  return typeof window !== "undefined" && window.__TAURI_INTERNALS__ !== undefined;
}

/**
 * Picks the backend: Tauri inside the desktop app, the in-memory fake in a
 * plain browser. Both are loaded lazily so each build path only pulls in what
 * it needs.
 */
export async function selectBackend(): Promise<Backend> {
  if (inTauri()) {
    const { createTauriBackend } = await import("./tauri");
    return createTauriBackend();
  }
  const { createFakeBackend, fakeOptionsFromQuery } = await import("./fake");
  const fake = createFakeBackend(fakeOptionsFromQuery(window.location.search));
  fake.exposeTestHooks(window);
  return fake;
}

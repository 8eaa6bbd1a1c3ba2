// The ONLY module that talks to Tauri. Everything else uses `Backend`.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { type CommandName, commands, DROP_CHANNEL, EVENTS_CHANNEL } from "../bindings";
import type { AppError, AskEvent, AskTurn, Backend, DragState, DropOutcome, EngineEvent } from "./types";
import { isAppError } from "./types";

/** Normalise whatever a command rejected with into an AppError. */
function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  if (typeof e === "string") return { code: "internal", message: e };
  if (e instanceof Error) return { code: "internal", message: e.message };
  return { code: "internal", message: "The app did not answer." };
}

async function call<T>(cmd: CommandName, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

/**
 * Tauri's `listen` resolves asynchronously; the Backend contract returns a
 * synchronous unsubscribe, so we remember an early unsubscribe and honour it
 * once the listener is in place.
 */
function syncUnlisten(p: Promise<UnlistenFn>): () => void {
  let stopped = false;
  let unlisten: UnlistenFn | null = null;
  p.then(
    (fn) => {
      if (stopped) fn();
      else unlisten = fn;
    },
    (e) => console.error("trove: could not subscribe", e),
  );
  return () => {
    stopped = true;
    if (unlisten) {
      unlisten();
      unlisten = null;
    }
  };
}

export function createTauriBackend(): Backend {
  const cmds = commands(call);
  return {
    // Command names and argument objects come from the generated bindings.
    ...cmds,

    /** `ask` streams on a channel of its own: one per question, handed to the command. */
    ask(question: string, history: AskTurn[], onEvent: (e: AskEvent) => void) {
      const events = new Channel<AskEvent>();
      events.onmessage = onEvent;
      return cmds.ask(question, history, events);
    },

    onEvents(cb: (batch: EngineEvent[]) => void): () => void {
      return syncUnlisten(listen<EngineEvent[]>(EVENTS_CHANNEL, (e) => cb(e.payload as EngineEvent[])));
    },

    onDropped(cb: (outcome: DropOutcome) => void): () => void {
      return syncUnlisten(listen<DropOutcome>(DROP_CHANNEL, (e) => cb(e.payload)));
    },

    onDragState(cb: (s: DragState) => void): () => void {
      let lastCount = 0;
      return syncUnlisten(
        getCurrentWebview().onDragDropEvent((e) => {
          const p = e.payload;
          if (p.type === "enter" || p.type === "drop") {
            lastCount = p.paths?.length ?? 0;
            cb({ state: p.type, count: lastCount });
          } else if (p.type === "over") {
            cb({ state: "over", count: lastCount });
          } else {
            cb({ state: "leave", count: 0 });
            lastCount = 0;
          }
        }),
      );
    },
  };
}

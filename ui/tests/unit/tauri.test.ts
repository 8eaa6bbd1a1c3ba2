// The Tauri adapter: command names/arguments, error normalisation, batched
// events and drag-state mapping, against mocked @tauri-apps/api modules.
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
let eventHandler: ((e: { payload: unknown }) => void) | null = null;
const unlistenEvents = vi.fn();
let droppedHandler: ((e: { payload: unknown }) => void) | null = null;
const unlistenDropped = vi.fn();
let dragHandler: ((e: { payload: unknown }) => void) | null = null;
const unlistenDrag = vi.fn();

vi.mock("@tauri-apps/api/core", () => ({
  invoke: (...a: unknown[]) => invoke(...a),
  // as the real one: Rust's messages on the channel go to `onmessage`
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (name: string, h: (e: { payload: unknown }) => void) => {
    if (name === "trove://dropped") {
      droppedHandler = h;
      return Promise.resolve(unlistenDropped);
    }
    expect(name).toBe("trove://events");
    eventHandler = h;
    return Promise.resolve(unlistenEvents);
  },
}));
vi.mock("@tauri-apps/api/webview", () => ({
  getCurrentWebview: () => ({
    onDragDropEvent: (h: (e: { payload: unknown }) => void) => {
      dragHandler = h;
      return Promise.resolve(unlistenDrag);
    },
  }),
}));

const { createTauriBackend } = await import("../../src/backend/tauri");

describe("tauri backend", () => {
  beforeEach(() => {
    invoke.mockReset();
    invoke.mockResolvedValue("ok");
  });

  it("maps every method to its command and arguments", async () => {
    const b = createTauriBackend();
    await b.listItems(null);
    await b.listItems("failed");
    await b.addFilesDialog();
    await b.addFolderDialog();
    await b.addUrls(["https://a"]);
    await b.retryItem("f1");
    await b.retryAllFailed();
    await b.deleteItem("u2");
    await b.overview();
    await b.setPaused(true);
    await b.setConcurrency(4);
    await b.search("q", 20);
    await b.similar(7001, 20, "type:pdf");
    await b.openChunk(7);
    await b.listFolders();
    await b.addFolder("/home/ada/Notes", ["*.md"], ["drafts/**"]);
    await b.removeFolder(3, true);
    await b.rescanFolder(3);
    await b.setFolderWatching(3, false);
    await b.setFolderRules(3, ["*.md"], []);
    expect(invoke.mock.calls).toEqual([
      ["list_items", { status: null }],
      ["list_items", { status: "failed" }],
      ["add_files_dialog", undefined],
      ["add_folder_dialog", undefined],
      ["add_urls", { urls: ["https://a"] }],
      ["retry_item", { id: "f1" }],
      ["retry_all_failed", undefined],
      ["delete_item", { id: "u2" }],
      ["overview", undefined],
      ["set_paused", { paused: true }],
      ["set_concurrency", { n: 4 }],
      ["search", { query: "q", limit: 20 }],
      ["similar", { chunkId: 7001, limit: 20, filters: "type:pdf" }],
      ["open_chunk", { chunkId: 7 }],
      ["list_folders", undefined],
      ["add_folder", { path: "/home/ada/Notes", include: ["*.md"], exclude: ["drafts/**"] }],
      ["remove_folder", { id: 3, keepItems: true }],
      ["rescan_folder", { id: 3 }],
      ["set_folder_watching", { id: 3, watching: false }],
      ["set_folder_rules", { id: 3, include: ["*.md"], exclude: [] }],
    ]);
  });

  it("ask hands the command a channel of its own whose messages reach onEvent", async () => {
    const b = createTauriBackend();
    const answer = {
      question: "q",
      passages: [],
      relevant: false,
      answer: null,
      cited: [],
      endpoint: null,
      model: null,
      error: null,
    };
    const channels: unknown[] = [];
    invoke.mockImplementation(async (_cmd: string, args: { events: { onmessage: (m: unknown) => void } }) => {
      channels.push(args.events);
      args.events.onmessage({ type: "passages", passages: [], relevant: false, answering: false });
      args.events.onmessage({ type: "token", text: "hi" });
      return answer;
    });
    const got: unknown[] = [];
    const history = [{ question: "before", answer: "then" }];
    await expect(b.ask("q", history, (e) => got.push(e))).resolves.toEqual(answer);
    expect(invoke.mock.calls[0]![0]).toBe("ask");
    expect(invoke.mock.calls[0]![1]).toEqual({ question: "q", history, events: channels[0] });
    expect(got).toEqual([
      { type: "passages", passages: [], relevant: false, answering: false },
      { type: "token", text: "hi" },
    ]);
    await b.ask("again", [], () => {});
    expect(channels[1]).not.toBe(channels[0]);
    invoke.mockRejectedValueOnce("no library");
    await expect(b.ask("q", [], () => {})).rejects.toEqual({ code: "internal", message: "no library" });
  });

  it("rejects with an AppError whatever the command threw", async () => {
    const b = createTauriBackend();
    invoke.mockRejectedValueOnce({ code: "not_found", message: "Gone." });
    await expect(b.retryItem("x")).rejects.toEqual({ code: "not_found", message: "Gone." });
    invoke.mockRejectedValueOnce("plain string");
    await expect(b.retryItem("x")).rejects.toEqual({ code: "internal", message: "plain string" });
    invoke.mockRejectedValueOnce(new Error("boom"));
    await expect(b.retryItem("x")).rejects.toEqual({ code: "internal", message: "boom" });
  });

  it("delivers event batches and unsubscribes", async () => {
    const b = createTauriBackend();
    const got: unknown[] = [];
    const off = b.onEvents((batch) => got.push(batch));
    await Promise.resolve();
    eventHandler!({ payload: [{ type: "itemDeleted", id: "f1" }] });
    expect(got).toEqual([[{ type: "itemDeleted", id: "f1" }]]);
    off();
    expect(unlistenEvents).toHaveBeenCalledTimes(1);
  });

  it("honours an unsubscribe that happens before listen resolves", async () => {
    unlistenEvents.mockClear();
    const b = createTauriBackend();
    const off = b.onEvents(() => {});
    off();
    await Promise.resolve();
    await Promise.resolve();
    expect(unlistenEvents).toHaveBeenCalledTimes(1);
  });

  it("maps drag-drop events to drag states with counts", async () => {
    const b = createTauriBackend();
    const states: unknown[] = [];
    b.onDragState((s) => states.push(s));
    await Promise.resolve();
    dragHandler!({ payload: { type: "enter", paths: ["/a", "/b"], position: { x: 1, y: 2 } } });
    dragHandler!({ payload: { type: "over", position: { x: 3, y: 4 } } });
    dragHandler!({ payload: { type: "leave" } });
    dragHandler!({ payload: { type: "enter", paths: ["/c"], position: { x: 0, y: 0 } } });
    dragHandler!({ payload: { type: "drop", paths: ["/c"], position: { x: 0, y: 0 } } });
    expect(states).toEqual([
      { state: "enter", count: 2 },
      { state: "over", count: 2 },
      { state: "leave", count: 0 },
      { state: "enter", count: 1 },
      { state: "drop", count: 1 },
    ]);
  });

  it("delivers drop outcomes from trove://dropped", async () => {
    const b = createTauriBackend();
    const got: unknown[] = [];
    const off = b.onDropped((o) => got.push(o));
    await Promise.resolve();
    const report = { added: [], skipped: [{ input: "/a/sock", reason: "not a regular file or folder" }] };
    droppedHandler!({ payload: { type: "added", report } });
    expect(got).toEqual([{ type: "added", report }]);
    off();
    expect(unlistenDropped).toHaveBeenCalledTimes(1);
  });
});

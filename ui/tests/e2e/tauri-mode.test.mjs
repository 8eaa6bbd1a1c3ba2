// The built UI in "Tauri mode": window.__TAURI_INTERNALS__ is mocked before
// the app loads, so the real src/backend/tauri.ts runs against a scripted
// IPC (commands, `trove://events`, drag-drop window events).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, serveDist } from "./helpers.mjs";

let srv;
let browser;
before(async () => {
  srv = await serveDist();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

// Runs in the page before any app script.
function installMockIpc() {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const item = (id, status, extra = {}) => ({
    id,
    kind: "file",
    name: `${id}.pdf`,
    location: `/docs/${id}.pdf`,
    mime: "application/pdf",
    size: 2048,
    status,
    progress: status === "completed" ? 100 : 0,
    stage: null,
    error: null,
    jobId: null,
    attempts: 1,
    maxAttempts: 3,
    chunkCount: status === "completed" ? 3 : 0,
    duplicateOf: null,
    addedAt: now,
    updatedAt: now,
    ...extra,
  });
  const items = [item("f2", "failed", { error: "The PDF is password-protected." }), item("f1", "completed")];
  const calls = [];
  const callbacks = new Map();
  const listeners = new Map(); // event -> [callback ids]
  let next = 1;
  window.__ipc = {
    calls,
    listeners,
    emit(event, payload) {
      for (const id of listeners.get(event) ?? []) callbacks.get(id)?.({ event, id, payload });
    },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener() {} };
  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
    transformCallback(cb) {
      const id = next++;
      callbacks.set(id, cb);
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    async invoke(cmd, args) {
      calls.push([cmd, args ?? null]);
      switch (cmd) {
        case "plugin:event|listen": {
          const l = listeners.get(args.event) ?? [];
          l.push(args.handler);
          listeners.set(args.event, l);
          return args.handler;
        }
        case "plugin:event|unlisten":
          return null;
        case "list_items":
          return items;
        case "overview":
          return {
            counts: { pending: 0, processing: 0, completed: 1, failed: 1, total: 2 },
            failed: [{ id: "f2", name: "f2.pdf", error: "The PDF is password-protected.", addedAt: now }],
            stuck: [],
            distribution: [{ seconds: 3, count: 1 }],
            queue: { paused: false, concurrency: 2, running: 0 },
          };
        case "retry_item":
          return { ...items[0], status: "pending", error: null };
        case "search":
          return { hits: [], mode: "hybrid", notice: null };
        case "set_concurrency":
          if (args.n > 16) throw { code: "invalid", message: "concurrency must be between 1 and 16" };
          return { paused: false, concurrency: args.n, running: 0 };
        default:
          throw { code: "unknown_command", message: `no mock for ${cmd}` };
      }
    },
  };
}

test("tauri.ts drives the UI through IPC: list, events, retry, drag overlay", async () => {
  await browser.context.addInitScript(installMockIpc);
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(srv.url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  assert.equal(await page.evaluate(() => typeof window.__troveFake), "undefined", "fake backend not loaded");
  assert.equal(await page.locator('[data-testid="badge-f2"]').getAttribute("data-status"), "failed");
  assert.match(await page.locator('[data-testid="error-f2"]').innerText(), /password-protected/);

  // retry goes through the retry_item command
  await page.click('[data-testid="retry-f2"]');
  await page.waitForFunction(() => window.__ipc.calls.some(([c, a]) => c === "retry_item" && a.id === "f2"));
  // the returned row is applied at once, without waiting for an event
  await page.waitForFunction(() => document.querySelector('[data-testid="badge-f2"]')?.dataset.status === "pending");

  // a batched trove://events payload updates rows
  await page.evaluate(() => {
    const t = new Date(Date.now() + 5000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const base = {
      kind: "file",
      location: "/docs/x",
      mime: null,
      size: 1,
      stage: "embedding",
      error: null,
      jobId: "j",
      attempts: 1,
      maxAttempts: 3,
      chunkCount: 0,
      duplicateOf: null,
      addedAt: t,
      updatedAt: t,
    };
    window.__ipc.emit("trove://events", [
      { type: "itemAdded", item: { ...base, id: "f3", name: "new.pdf", status: "processing", progress: 57 } },
      {
        type: "itemUpdated",
        item: {
          ...base,
          id: "f2",
          name: "f2.pdf",
          location: "/docs/f2.pdf",
          status: "processing",
          progress: 10,
          addedAt: "2000-01-01T00:00:00Z",
        },
      },
      { type: "itemDeleted", id: "f1" },
    ]);
  });
  await page.waitForSelector('[data-testid="row-f3"]');
  assert.match(await page.locator('[data-testid="badge-f3"]').innerText(), /Processing… 57%/);
  assert.equal(await page.locator('[data-testid="badge-f2"]').getAttribute("data-status"), "processing");
  await page.locator('[data-testid="row-f1"]').waitFor({ state: "detached" });

  // Tauri drag-drop window events drive the overlay
  await page.evaluate(() =>
    window.__ipc.emit("tauri://drag-enter", { paths: ["/a", "/b", "/c"], position: { x: 10, y: 10 } }),
  );
  await page.locator('[data-testid="drop-overlay"]').waitFor({ state: "visible" });
  assert.match(await page.locator('[data-testid="drop-overlay"]').innerText(), /3 items/);
  await page.evaluate(() => window.__ipc.emit("tauri://drag-leave", null));
  await page.locator('[data-testid="drop-overlay"]').waitFor({ state: "hidden" });

  // Rust adds a drop itself and reports it on trove://dropped, shown like the dialogs' report
  await page.evaluate(() => {
    const t = new Date(Date.now() + 9000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const item = {
      id: "f9",
      kind: "file",
      name: "dropped.md",
      location: "/drop/dropped.md",
      mime: "text/markdown",
      size: 10,
      status: "pending",
      progress: 0,
      stage: null,
      error: null,
      jobId: "j9",
      attempts: 0,
      maxAttempts: 3,
      chunkCount: 0,
      duplicateOf: null,
      addedAt: t,
      updatedAt: t,
    };
    const skipped = [{ input: "/drop/fifo", reason: "not a regular file or folder" }];
    window.__ipc.emit("trove://dropped", { type: "added", report: { added: [item], skipped } });
  });
  await page.waitForSelector('[data-testid="row-f9"]');
  await page.locator('[data-testid="toast"]', { hasText: "Added 1 file." }).waitFor();
  await page
    .locator('[data-testid="toast"]', { hasText: "Skipped /drop/fifo: not a regular file or folder" })
    .waitFor();

  // commands the UI issued, with the documented names
  const cmds = await page.evaluate(() => window.__ipc.calls.map(([c]) => c));
  for (const c of ["list_items", "overview", "retry_item", "plugin:event|listen"]) assert.ok(cmds.includes(c), c);
  const listened = await page.evaluate(() => [...window.__ipc.listeners.keys()]);
  assert.ok(listened.includes("trove://events"));
  assert.ok(listened.includes("tauri://drag-enter"));
  assert.ok(listened.includes("trove://dropped"));
  assert.deepEqual(errors, []);
  await page.close();
});

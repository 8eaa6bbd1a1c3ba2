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
  await browser.context.addInitScript(installMockIpc);
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
        case "ask": {
          // Rust's side of a Channel: numbered messages to its callback, then the end
          const send = callbacks.get(args.events.id);
          const passages = [
            {
              n: 1,
              itemId: "f1",
              name: "f1.pdf",
              location: "/docs/f1.pdf",
              chunkId: 7,
              page: 2,
              pageUnit: "page",
              text: "Revenue grew by a third.",
              similarity: 0.81,
            },
          ];
          const tokens = ["Revenue grew ", "by a third [", "1]."];
          send({ index: 0, message: { type: "passages", passages, relevant: true, answering: true } });
          for (const [i, text] of tokens.entries()) {
            await new Promise((ok) => setTimeout(ok, 30));
            send({ index: i + 1, message: { type: "token", text } });
          }
          send({ index: tokens.length + 1, end: true });
          return {
            question: args.question,
            passages,
            relevant: true,
            answer: tokens.join(""),
            cited: [1],
            endpoint: "http://127.0.0.1:11434/v1",
            model: "llama3.2",
            error: null,
          };
        }
        case "open_chunk":
          return {
            itemId: "f1",
            name: "f1.pdf",
            location: "/docs/f1.pdf",
            text: "Cover.\fRevenue grew by a third.",
            start: 7,
            end: 31,
            firstPage: 1,
            cutBefore: false,
            cutAfter: false,
          };
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

test("ask streams over a Tauri channel: passages, then tokens, then the answer", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(srv.url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  await page.click('[data-testid="tab-ask"]');
  await page.fill('[data-testid="ask-input"]', "How did revenue do?");
  await page.press('[data-testid="ask-input"]', "Enter");
  const turn = page.locator('[data-testid="ask-turn-0"]');
  await page.waitForSelector('[data-testid="ask-turn-0"][data-state="done"]');
  assert.equal(await turn.locator('[data-testid="ask-answer"]').innerText(), "Revenue grew by a third [1].");
  assert.equal(await turn.locator('[data-testid="ask-source-1"]').getAttribute("data-cited"), "true");
  // the command got the question, no history, and a channel (what Rust deserialises)
  const call = await page.evaluate(() => {
    const [, a] = window.__ipc.calls.find(([c]) => c === "ask");
    return { question: a.question, history: a.history, channel: typeof a.events.id, json: JSON.stringify(a.events) };
  });
  assert.equal(call.question, "How did revenue do?");
  assert.deepEqual(call.history, []);
  assert.equal(call.channel, "number");
  assert.match(call.json, /^"__CHANNEL__:\d+"$/);
  // a citation opens the passage through open_chunk
  await turn.getByRole("button", { name: "Source 1: f1.pdf" }).click();
  await page.waitForSelector('[data-testid="ask-doc-chunk"]');
  assert.equal(await page.locator('[data-testid="ask-doc-chunk"]').innerText(), "Revenue grew by a third.");
  assert.equal(await page.locator('[data-testid="ask-doc-open"]').innerText(), "Open at page 2");
  // a follow-up carries the first turn
  await page.fill('[data-testid="ask-input"]', "And costs?");
  await page.press('[data-testid="ask-input"]', "Enter");
  await page.waitForSelector('[data-testid="ask-turn-1"][data-state="done"]');
  const history = await page.evaluate(() => window.__ipc.calls.filter(([c]) => c === "ask")[1][1].history);
  assert.deepEqual(history, [{ question: "How did revenue do?", answer: "Revenue grew by a third [1]." }]);
  assert.deepEqual(errors, []);
  await page.close();
});

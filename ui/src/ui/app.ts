// App shell: wires the backend, store, views, dialogs, overlay and toasts.
import type { AddReport, Backend, DragState, EngineEvent, Status } from "../backend/types";
import { errorMessage } from "../backend/types";
import { createFrameBatcher } from "../lib/batcher";
import { plural } from "../lib/format";
import { ItemStore } from "../lib/store";
import { createAsk } from "./ask";
import type { Ctx, ViewName } from "./context";
import { createDetailsDialog, createUrlDialog } from "./dialogs";
import { button, h, icon, setText } from "./dom";
import { createFoldersDialog } from "./folders";
import { createLibrary } from "./library";
import { createQueuePanel } from "./queue";
import { createSearch } from "./search";
import { createSettingsDialog } from "./settings";
import { bindShortcuts, createShortcutsDialog, keysFor } from "./shortcuts";
import { createToaster } from "./toast";

declare global {
  interface Window {
    /** read-only diagnostics for tests and benchmarks */
    __trove?: { store: ItemStore; ready: boolean; frames: number; applied: number };
  }
}

export async function startApp(root: HTMLElement, backend: Backend): Promise<void> {
  const store = new ItemStore();
  const toast = createToaster();
  const diag = { store, ready: false, frames: 0, applied: 0 };
  window.__trove = diag;

  const ctx: Ctx = {
    backend,
    store,
    toast,
    queue: null,
    overview: null,
    actions: {
      retry,
      retryAll,
      refreshLinks,
      remove,
      removeMany,
      retryMany,
      details: (id) => details.open(id),
      addFiles: () => addVia(() => backend.addFilesDialog(), "file"),
      addFolder: () => addVia(() => backend.addFolderDialog(), "file"),
      addUrls: () => urlDialog.open(),
      setFilter,
      reveal: (id) => {
        showView("library");
        library.reveal(id);
      },
      showView,
      openSettings: (focus) => void settings.open(focus),
    },
  };

  const library = createLibrary(ctx);
  const search = createSearch(ctx);
  const askView = createAsk(ctx);
  const queue = createQueuePanel(ctx);
  const settings = createSettingsDialog(ctx);
  const folders = createFoldersDialog(ctx);
  // the URL dialog lists skipped addresses itself
  const urlDialog = createUrlDialog(ctx, (r) => reportAdded({ added: r.added, skipped: [] }, "page"));
  const details = createDetailsDialog(ctx);
  const shortcuts = createShortcutsDialog();

  // ------------------------------------------------------------- layout
  const tabLib = h(
    "button",
    {
      class: "tab",
      attrs: {
        type: "button",
        role: "tab",
        id: "tab-library",
        "aria-controls": "panel-library",
        "aria-selected": "true",
      },
      data: { testid: "tab-library" },
    },
    icon("library"),
    h("span", { text: "Library" }),
  );
  const tabSearch = h(
    "button",
    {
      class: "tab",
      attrs: {
        type: "button",
        role: "tab",
        id: "tab-search",
        "aria-controls": "panel-search",
        "aria-selected": "false",
        tabindex: "-1",
        title: `Search (${keysFor("search")})`,
      },
      data: { testid: "tab-search" },
    },
    icon("search"),
    h("span", { text: "Search" }),
  );
  const tabAsk = h(
    "button",
    {
      class: "tab",
      attrs: {
        type: "button",
        role: "tab",
        id: "tab-ask",
        "aria-controls": "panel-ask",
        "aria-selected": "false",
        tabindex: "-1",
        title: `Ask a question (${keysFor("ask")})`,
      },
      data: { testid: "tab-ask" },
    },
    icon("ask"),
    h("span", { text: "Ask" }),
  );
  const tabs = h(
    "div",
    { class: "tabs", attrs: { role: "tablist", "aria-label": "Views" } },
    tabLib,
    tabSearch,
    tabAsk,
  );
  const runningPill = h("span", { class: "pill" });
  const runningSr = h("span", { class: "sr-only" });
  const queueToggle = button("Queue", { icon: "queue", class: "btn btn-ghost queue-toggle", testid: "queue-toggle" });
  queueToggle.append(runningPill, runningSr);
  queueToggle.setAttribute("aria-controls", "queue-panel");
  const settingsBtn = button("Settings", {
    icon: "gear",
    class: "btn btn-ghost",
    testid: "settings-open",
    title: `Settings (${keysFor("settings")})`,
  });
  settingsBtn.addEventListener("click", () => void settings.open());
  const foldersBtn = button("Folders", {
    icon: "folder",
    class: "btn btn-ghost",
    testid: "folders-open",
    title: `Watched folders (${keysFor("folders")})`,
  });
  foldersBtn.addEventListener("click", () => void folders.open());
  const shortcutsBtn = button("Keyboard shortcuts", {
    icon: "keyboard",
    iconOnly: true,
    class: "btn btn-ghost btn-icon",
    testid: "shortcuts-open",
    title: `Keyboard shortcuts (${keysFor("help")})`,
  });
  shortcutsBtn.addEventListener("click", () => shortcuts.open());
  const topbar = h(
    "header",
    { class: "topbar" },
    h(
      "h1",
      { class: "brand" },
      h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }),
      h("span", { text: "Trove" }),
    ),
    tabs,
    h("span", { class: "grow" }),
    shortcutsBtn,
    foldersBtn,
    settingsBtn,
    queueToggle,
  );

  const panelLib = h(
    "div",
    { class: "tabpanel", attrs: { role: "tabpanel", id: "panel-library", "aria-labelledby": "tab-library" } },
    library.el,
  );
  const panelSearch = h(
    "div",
    {
      class: "tabpanel",
      attrs: { role: "tabpanel", id: "panel-search", "aria-labelledby": "tab-search", hidden: true },
    },
    search.el,
  );
  const panelAsk = h(
    "div",
    {
      class: "tabpanel",
      attrs: { role: "tabpanel", id: "panel-ask", "aria-labelledby": "tab-ask", hidden: true },
    },
    askView.el,
  );
  const loading = h(
    "div",
    { class: "loading-veil", attrs: { role: "status" }, data: { testid: "loading" } },
    h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }),
    h("span", { text: "Loading your library…" }),
  );
  const main = h("main", { class: "main" }, panelLib, panelSearch, panelAsk, loading);

  const overlayCount = h("p", { class: "drop-count" });
  const overlay = h(
    "div",
    { class: "drop-overlay", attrs: { hidden: true, "aria-hidden": "true" }, data: { testid: "drop-overlay" } },
    h(
      "div",
      { class: "drop-card" },
      icon("upload", "drop-icon"),
      h("p", { class: "drop-title", text: "Drop to add to Trove" }),
      overlayCount,
    ),
  );
  const dragAnnounce = h("p", { class: "sr-only", attrs: { role: "status", "aria-live": "assertive" } });

  root.replaceChildren(
    h("div", { class: "shell" }, topbar, queue.banner, h("div", { class: "body" }, main, queue.el)),
    overlay,
    dragAnnounce,
    toast.el,
    urlDialog.el,
    details.el,
    settings.el,
    folders.el,
    shortcuts.el,
  );

  // -------------------------------------------------------- queue toggle
  // remembered choice; by default open only where it does not cover the list
  const storedPanel = localStorage.getItem("trove.queuePanel");
  let panelOpen = storedPanel ? storedPanel === "open" : window.innerWidth > 860;
  const applyPanel = () => {
    queue.el.hidden = !panelOpen;
    queueToggle.setAttribute("aria-expanded", String(panelOpen));
  };
  applyPanel();
  queueToggle.addEventListener("click", () => {
    panelOpen = !panelOpen;
    localStorage.setItem("trove.queuePanel", panelOpen ? "open" : "closed");
    applyPanel();
    if (panelOpen) refreshOverview();
  });

  // ---------------------------------------------------------------- tabs
  const VIEWS: readonly { name: ViewName; tab: HTMLButtonElement; panel: HTMLElement; focus?: () => void }[] = [
    { name: "library", tab: tabLib, panel: panelLib },
    { name: "search", tab: tabSearch, panel: panelSearch, focus: () => search.focus() },
    { name: "ask", tab: tabAsk, panel: panelAsk, focus: () => askView.focus() },
  ];
  let current: ViewName = "library";
  function showView(v: ViewName) {
    current = v;
    for (const x of VIEWS) {
      const on = x.name === v;
      x.tab.setAttribute("aria-selected", String(on));
      x.tab.tabIndex = on ? 0 : -1;
      x.panel.hidden = !on;
    }
    if (v === "library") library.render();
  }
  /** a view shown from its tab or shortcut: its box gets the focus */
  function enterView(v: ViewName) {
    showView(v);
    VIEWS.find((x) => x.name === v)?.focus?.();
  }
  for (const x of VIEWS) x.tab.addEventListener("click", () => enterView(x.name));
  tabs.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft" || e.key === "Home" || e.key === "End") {
      e.preventDefault();
      const i = VIEWS.findIndex((x) => x.name === current);
      const n = VIEWS.length;
      const j = e.key === "Home" ? 0 : e.key === "End" ? n - 1 : e.key === "ArrowRight" ? (i + 1) % n : (i - 1 + n) % n;
      showView(VIEWS[j]!.name);
      VIEWS[j]!.tab.focus();
    }
  });
  // the one table in shortcuts.ts: its help overlay lists exactly these
  bindShortcuts(document, {
    search: () => enterView("search"),
    ask: () => enterView("ask"),
    addFiles: () => ctx.actions.addFiles(),
    addFolder: () => ctx.actions.addFolder(),
    addUrls: () => ctx.actions.addUrls(),
    folders: () => void folders.open(),
    settings: () => void settings.open(),
    help: () => shortcuts.open(),
  });

  // ------------------------------------------------------------- actions
  function setFilter(s: Status | null) {
    store.setFilter(s);
    library.render();
  }

  async function retry(id: string) {
    try {
      // apply the returned row at once; the engine's own event may follow
      const it = await backend.retryItem(id);
      batcher.push([{ type: "itemUpdated", item: it }]);
    } catch (e) {
      toast.show(`Could not retry: ${errorMessage(e)}`, { kind: "error" });
    }
  }

  async function retryAll() {
    try {
      const n = await backend.retryAllFailed();
      toast.show(n > 0 ? `Retrying ${plural(n, "item")}.` : "Nothing to retry.");
    } catch (e) {
      toast.show(`Could not retry: ${errorMessage(e)}`, { kind: "error" });
    }
  }

  async function refreshLinks() {
    try {
      const n = await backend.refreshLinks();
      toast.show(
        n > 0 ? `Refreshing ${plural(n, "link")}; unchanged pages are kept as they are.` : "No links to refresh.",
      );
    } catch (e) {
      toast.show(`Could not refresh: ${errorMessage(e)}`, { kind: "error" });
    }
  }

  /** delete with undo: hidden now, deleted for real when the toast expires */
  const pendingDeletes = new Map<string, () => Promise<void>>();
  function remove(id: string) {
    removeMany([id]);
  }

  function removeMany(input: string[]) {
    const ids = input.filter((id) => store.get(id) && !pendingDeletes.has(id) && !store.isHidden(id));
    if (ids.length === 0) return;
    const gone = new Set(ids);
    // move keyboard focus to a neighbour before the rows disappear
    const view = store.view();
    const first = Math.min(...ids.map((id) => view.indexOf(id)).filter((i) => i >= 0));
    let neighbour: string | undefined;
    for (let i = first + 1; i < view.length && !neighbour; i++) if (!gone.has(view[i]!)) neighbour = view[i];
    for (let i = first - 1; i >= 0 && !neighbour; i--) if (!gone.has(view[i]!)) neighbour = view[i];
    const hadFocus = (document.activeElement as HTMLElement | null)?.closest?.(".row") != null;
    const names = new Map(ids.map((id) => [id, store.get(id)!.name]));
    for (const id of ids) store.hide(id);
    library.render();
    if (hadFocus && neighbour) library.reveal(neighbour);
    const commit = async () => {
      for (const id of ids) pendingDeletes.delete(id);
      const failed: string[] = [];
      for (const id of ids) {
        try {
          await backend.deleteItem(id);
        } catch (e) {
          store.unhide(id);
          failed.push(`${names.get(id)}: ${errorMessage(e)}`);
        }
      }
      if (failed.length) {
        library.render();
        toast.show(
          failed.length === 1
            ? `Could not delete ${failed[0]}`
            : `Could not delete ${plural(failed.length, "item")} (${failed[0]})`,
          { kind: "error" },
        );
      }
    };
    for (const id of ids) pendingDeletes.set(id, commit);
    toast.show(ids.length === 1 ? `Deleted “${names.get(ids[0]!)}”.` : `Deleted ${plural(ids.length, "item")}.`, {
      testid: "delete-toast",
      action: {
        label: "Undo",
        run: () => {
          for (const id of ids) {
            pendingDeletes.delete(id);
            store.unhide(id);
          }
          library.render();
          library.reveal(ids[0]!);
        },
      },
      timeout: 6000,
      onExpire: () => void commit(),
    });
  }

  async function retryMany(ids: string[]) {
    const failed = ids.filter((id) => store.get(id)?.status === "failed");
    let ok = 0;
    for (const id of failed) {
      try {
        batcher.push([{ type: "itemUpdated", item: await backend.retryItem(id) }]);
        ok += 1;
      } catch {
        /* reported below */
      }
    }
    toast.show(
      ok === failed.length
        ? `Retrying ${plural(ok, "item")}.`
        : `Retrying ${ok} of ${plural(failed.length, "failed item")}; the others could not be retried.`,
      { kind: ok === failed.length ? "info" : "error" },
    );
  }

  // never lose a delete the user meant when the window goes away
  window.addEventListener("pagehide", () => {
    for (const c of new Set(pendingDeletes.values())) void c();
  });

  function reportAdded(r: AddReport, noun: string) {
    if (r.added.length > 0) {
      // show the new rows even before (or without) their itemAdded events
      batcher.push(r.added.map((item) => ({ type: "itemAdded" as const, item })));
      if (store.getFilter() !== null && store.getFilter() !== "pending") setFilter(null);
      library.clearNameFilter();
      showView("library");
      library.scrollToTop();
      toast.show(`Added ${plural(r.added.length, noun)}.`, { kind: "success" });
    }
    if (r.skipped.length > 0) {
      const first = r.skipped[0]!;
      toast.show(
        r.skipped.length === 1
          ? `Skipped ${first.input}: ${first.reason}`
          : `Skipped ${plural(r.skipped.length, "item")} (e.g. ${first.input}: ${first.reason})`,
        { kind: "info", timeout: 8000 },
      );
    }
  }

  async function addVia(fn: () => Promise<AddReport>, noun: string) {
    try {
      reportAdded(await fn(), noun);
    } catch (e) {
      toast.show(`Could not add: ${errorMessage(e)}`, { kind: "error" });
    }
  }

  // ------------------------------------------------------ drag and drop
  backend.onDragState((s: DragState) => {
    const show = s.state === "enter" || s.state === "over";
    if (show && overlay.hidden) setText(dragAnnounce, "Drop files to add them to Trove.");
    overlay.hidden = !show;
    document.documentElement.classList.toggle("dragging", show);
    if (show)
      setText(
        overlayCount,
        s.count > 0
          ? `${plural(s.count, "item")} — files and folders are indexed in the background`
          : "Files and folders are indexed in the background",
      );
    if (s.state === "drop") {
      setText(dragAnnounce, s.count ? `Adding ${plural(s.count, "item")}.` : "Adding.");
      if (store.getFilter() !== null && store.getFilter() !== "pending") setFilter(null);
      library.clearNameFilter();
      showView("library");
      library.scrollToTop();
    }
  });

  // a drop is added by Rust; its report is shown like the dialogs' (skipped files with reasons)
  // (a dropped folder is watched: the Folders dialog, if open, lists it)
  backend.onDropped((o) => {
    if (o.type === "added") reportAdded(o.report, "file");
    else toast.show(`Could not add: ${errorMessage(o.error)}`, { kind: "error" });
    folders.refresh();
  });

  // -------------------------------------------------------------- events
  let overviewTimer: ReturnType<typeof setTimeout> | null = null;
  let overviewInFlight = false;
  let lastOverview = Number.NEGATIVE_INFINITY;
  function refreshOverview() {
    if (overviewTimer) return;
    const wait = Math.max(0, 1000 - (performance.now() - lastOverview));
    overviewTimer = setTimeout(async () => {
      overviewTimer = null;
      // Also while the panel is hidden: the overview carries the database-problem banner.
      if (overviewInFlight) return;
      overviewInFlight = true;
      lastOverview = performance.now();
      try {
        const o = await backend.overview();
        ctx.overview = o;
        queue.setOverview(o);
        updatePill();
      } catch (e) {
        console.warn("trove: overview failed", e);
      } finally {
        overviewInFlight = false;
      }
    }, wait);
  }
  setInterval(refreshOverview, 15_000);

  function updatePill() {
    const c = store.visibleCounts();
    const busy = c.processing + c.pending;
    setText(runningPill, busy > 0 ? busy.toLocaleString("en-US") : "");
    runningPill.hidden = busy === 0;
    setText(runningSr, busy > 0 ? ` ${busy === 1 ? "item" : "items"} waiting or processing` : "");
  }

  const batcher = createFrameBatcher<EngineEvent>((events) => {
    diag.frames += 1;
    diag.applied += events.length;
    const res = store.apply(events);
    if (res.queue) queue.setQueue(res.queue);
    library.render();
    details.refresh();
    queue.setCounts();
    updatePill();
    for (const f of res.finished) {
      // the OS notification is sent by Rust; the UI adds a toast
      const total = f.completed + f.failed;
      toast.show(
        f.failed > 0
          ? `Finished ${plural(total, "item")}: ${f.completed.toLocaleString("en-US")} ready, ${f.failed.toLocaleString("en-US")} failed.`
          : `Finished: ${plural(f.completed, "item")} ready to search.`,
        {
          kind: f.failed > 0 ? "info" : "success",
          testid: "batch-toast",
          action:
            f.failed > 0
              ? {
                  label: "Show failed",
                  run: () => {
                    showView("library");
                    setFilter("failed");
                  },
                }
              : undefined,
        },
      );
    }
    if (res.changed.size > 0 || res.queue || res.finished.length) refreshOverview();
  });

  // subscribe first, buffer until the initial list is in, so nothing is lost
  let early: EngineEvent[] | null = [];
  backend.onEvents((batch) => {
    if (early) early.push(...batch);
    else batcher.push(batch);
  });
  try {
    const items = await backend.listItems(null);
    store.load(items);
  } catch (e) {
    toast.show(`Could not load your library: ${errorMessage(e)}`, { kind: "error", timeout: 0 });
  }
  const buffered = early;
  early = null;
  batcher.push(buffered);
  loading.hidden = true;
  library.render();
  queue.setCounts();
  updatePill();
  refreshOverview();
  diag.ready = true;
  document.documentElement.dataset.ready = "true";
}

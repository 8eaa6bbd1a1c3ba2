// Library view: toolbar, status filter, virtualised list of items.
import type { Item, Status } from "../backend/types";
import { absoluteTime, badgeText, clampPct, humanSize, kindLabel, plural, relativeTime, STATUS_LABEL, stageLabel } from "../lib/format";
import type { Ctx } from "./context";
import { button, h, icon, setText } from "./dom";

export const ROW_H = 60;
const OVERSCAN = 6;

interface RowEl {
  el: HTMLDivElement;
  id: string;
  item: Item | null;
  tick: number;
  index: number;
  iconKind: string;
  iconBox: HTMLSpanElement;
  name: HTMLDivElement;
  sub: HTMLDivElement;
  type: HTMLSpanElement;
  size: HTMLSpanElement;
  time: HTMLTimeElement;
  timeRel: HTMLSpanElement;
  timeAbs: HTMLSpanElement;
  badge: HTMLSpanElement;
  badgeText: HTMLSpanElement;
  bar: HTMLSpanElement;
  retry: HTMLButtonElement;
  del: HTMLButtonElement;
  label: string;
}

export interface LibraryView {
  el: HTMLElement;
  /** re-render after store changes (called once per animation frame at most) */
  render(): void;
  /** re-render relative times */
  tick(): void;
  scrollToTop(): void;
  reveal(id: string): void;
  focusList(): void;
  /** drop the name filter (e.g. when new items arrive from a drop) */
  clearNameFilter(): void;
}

const FILTERS: (Status | null)[] = [null, "pending", "processing", "completed", "failed"];

export function createLibrary(ctx: Ctx): LibraryView {
  const { store } = ctx;

  // ------------------------------------------------------------- toolbar
  const retryAllBtn = button("Retry all failed", { icon: "retry", testid: "retry-all", onClick: () => ctx.actions.retryAll() });
  const toolbar = h(
    "div",
    { class: "toolbar", attrs: { role: "toolbar", "aria-label": "Library actions" } },
    button("Add files…", { icon: "file", class: "btn btn-primary", testid: "add-files", onClick: () => ctx.actions.addFiles() }),
    button("Add folder…", { icon: "folder", testid: "add-folder", onClick: () => ctx.actions.addFolder() }),
    button("Add URLs…", { icon: "link", testid: "add-urls", onClick: () => ctx.actions.addUrls() }),
    h("span", { class: "toolbar-sep", attrs: { "aria-hidden": "true" } }),
    retryAllBtn,
    button("Refresh links", { icon: "retry", testid: "refresh-links", onClick: () => ctx.actions.refreshLinks() }),
  );

  const chips = new Map<Status | null, { btn: HTMLButtonElement; count: HTMLSpanElement }>();
  const filterBar = h("div", { class: "filters", attrs: { role: "radiogroup", "aria-label": "Show items by status" } });
  for (const f of FILTERS) {
    const count = h("span", { class: "chip-count", data: { testid: `count-${f ?? "all"}` } });
    const btn = h(
      "button",
      { class: "chip", attrs: { type: "button", role: "radio", "aria-checked": f === null ? "true" : "false" }, data: { testid: `filter-${f ?? "all"}`, status: f ?? "all" } },
      h("span", { class: "chip-dot", attrs: { "aria-hidden": "true" } }),
      h("span", { text: f === null ? "All" : STATUS_LABEL[f].replace("…", "") }),
      count,
    );
    btn.addEventListener("click", () => ctx.actions.setFilter(f));
    chips.set(f, { btn, count });
    filterBar.append(btn);
  }
  // radiogroup arrow-key behaviour
  filterBar.addEventListener("keydown", (e) => {
    const i = FILTERS.indexOf(store.getFilter());
    let j = -1;
    if (e.key === "ArrowRight" || e.key === "ArrowDown") j = (i + 1) % FILTERS.length;
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") j = (i - 1 + FILTERS.length) % FILTERS.length;
    if (j < 0) return;
    e.preventDefault();
    ctx.actions.setFilter(FILTERS[j]!);
    chips.get(FILTERS[j]!)!.btn.focus();
  });

  const nameFilter = h("input", {
    class: "name-filter",
    attrs: { type: "search", placeholder: "Filter by name…", "aria-label": "Filter items by name or location", autocomplete: "off", spellcheck: "false" },
    data: { testid: "name-filter" },
  });
  let nameTimer: ReturnType<typeof setTimeout> | null = null;
  nameFilter.addEventListener("input", () => {
    if (nameTimer) clearTimeout(nameTimer);
    nameTimer = setTimeout(() => {
      store.setQuery(nameFilter.value);
      viewport.scrollTop = 0;
      render();
    }, 120);
  });
  nameFilter.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && nameFilter.value) {
      e.preventDefault();
      nameFilter.value = "";
      store.setQuery("");
      render();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      if (activeId) setActive(activeId, true);
    }
  });

  // ------------------------------------------------------------ selection
  const selected = new Set<string>();
  let selAnchor: string | null = null;
  const selCount = h("span", { class: "sel-count", data: { testid: "selection-count" } });
  const selRetry = button("Retry failed", { icon: "retry", class: "btn btn-small", testid: "selection-retry", onClick: () => ctx.actions.retryMany([...selected]) });
  const selDelete = button("Delete", { icon: "trash", class: "btn btn-small btn-danger", testid: "selection-delete", onClick: () => deleteSelection() });
  const selClear = button("Clear selection", { icon: "close", class: "btn btn-small btn-ghost", testid: "selection-clear", onClick: () => clearSelection() });
  const selBar = h(
    "div",
    { class: "selection-bar", attrs: { hidden: true, role: "region", "aria-label": "Selection" }, data: { testid: "selection-bar" } },
    selCount,
    h("span", { class: "grow" }),
    selRetry,
    selDelete,
    selClear,
  );

  function clearSelection() {
    selected.clear();
    selAnchor = null;
    render();
  }

  function deleteSelection() {
    const ids = [...selected];
    selected.clear();
    selAnchor = null;
    ctx.actions.removeMany(ids);
    render();
  }

  function selectRange(toId: string) {
    const view = store.view();
    const from = view.indexOf(selAnchor ?? activeId ?? toId);
    const to = view.indexOf(toId);
    if (from < 0 || to < 0) return;
    selected.clear();
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) selected.add(view[i]!);
  }

  function toggleSelected(id: string) {
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    selAnchor = id;
  }

  function updateSelectionBar() {
    for (const id of selected) if (!store.get(id) || store.isHidden(id)) selected.delete(id);
    selBar.hidden = selected.size === 0;
    if (selected.size === 0) return;
    let failed = 0;
    for (const id of selected) if (store.get(id)?.status === "failed") failed += 1;
    setText(selCount, `${plural(selected.size, "item")} selected`);
    selRetry.disabled = failed === 0;
    setText(selRetry.querySelector(".btn-label")!, failed ? `Retry ${failed} failed` : "Retry failed");
    setText(selDelete.querySelector(".btn-label")!, `Delete ${selected.size.toLocaleString("en-US")}`);
  }

  // -------------------------------------------------------------- header
  const header = h(
    "div",
    { class: "list-header row-grid", attrs: { "aria-hidden": "true" } },
    h("span"),
    h("span", { text: "Name" }),
    h("span", { text: "Type" }),
    h("span", { class: "num", text: "Size" }),
    h("span", { text: "Added" }),
    h("span", { text: "Status" }),
    h("span"),
  );

  // ------------------------------------------------------------ viewport
  const spacer = h("div", { class: "list-spacer" });
  const viewport = h("div", {
    class: "list-viewport",
    attrs: { role: "list", "aria-label": "Library items", tabindex: "-1" },
    data: { testid: "item-list" },
  }, spacer);

  const emptyAll = h(
    "div",
    { class: "empty", data: { testid: "empty-state" } },
    icon("upload", "empty-icon"),
    h("h2", { text: "Drop files here, or add them" }),
    h("p", { text: "Drag files or folders anywhere onto this window, or paste web addresses. Trove extracts, indexes and makes them searchable on this computer." }),
    h(
      "div",
      { class: "empty-actions" },
      button("Add files…", { icon: "file", class: "btn btn-primary", onClick: () => ctx.actions.addFiles() }),
      button("Add folder…", { icon: "folder", onClick: () => ctx.actions.addFolder() }),
      button("Add URLs…", { icon: "link", onClick: () => ctx.actions.addUrls() }),
    ),
  );
  const emptyFilteredText = h("p");
  const emptyFiltered = h(
    "div",
    { class: "empty empty-small", data: { testid: "empty-filtered" } },
    emptyFilteredText,
    button("Show all items", {
      onClick: () => {
        nameFilter.value = "";
        store.setQuery("");
        ctx.actions.setFilter(null);
      },
    }),
  );

  const summary = h("p", { class: "sr-only", attrs: { role: "status", "aria-live": "polite" } });
  const listWrap = h("div", { class: "list-wrap" }, selBar, header, viewport, emptyAll, emptyFiltered);
  const el = h("section", { class: "view library", attrs: { "aria-label": "Library" }, data: { testid: "library" } }, h("div", { class: "library-top" }, toolbar, nameFilter, filterBar), listWrap, summary);

  const rows = new Map<string, RowEl>();
  const pool: RowEl[] = [];
  let activeId: string | null = null;
  let lastVersion = -1;
  let lastView: readonly string[] = [];
  let viewportH = 600;
  let timeTick = 0;
  let anchor: { id: string; offset: number } | null = null;
  let lastFilter: Status | null | undefined;

  new ResizeObserver(() => {
    viewportH = viewport.clientHeight || viewportH;
    render();
  }).observe(viewport);
  viewport.addEventListener("scroll", () => render(), { passive: true });

  // ----------------------------------------------------------- row build
  function makeRow(): RowEl {
    const iconBox = h("span", { class: "row-icon" });
    const name = h("div", { class: "row-name" });
    const sub = h("div", { class: "row-sub" });
    const type = h("span", { class: "row-type" });
    const size = h("span", { class: "row-size num" });
    const timeRel = h("span", { attrs: { "aria-hidden": "true" } });
    const timeAbs = h("span", { class: "sr-only" });
    const time = h("time", { class: "row-time" }, timeRel, timeAbs);
    const badgeTextEl = h("span", { class: "badge-text" });
    const bar = h("span", { class: "badge-bar-fill" });
    const badge = h(
      "span",
      { class: "badge" },
      h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }),
      icon("check", "badge-icon badge-icon-ok"),
      icon("alert", "badge-icon badge-icon-fail"),
      icon("clock", "badge-icon badge-icon-wait"),
      badgeTextEl,
      h("span", { class: "badge-bar", attrs: { "aria-hidden": "true" } }, bar),
    );
    const retry = button("Retry", { icon: "retry", class: "btn btn-small btn-retry" });
    retry.dataset.action = "retry";
    const del = button("Delete", { icon: "trash", iconOnly: true, class: "btn btn-icon btn-ghost btn-delete" });
    del.dataset.action = "delete";
    retry.tabIndex = -1;
    del.tabIndex = -1;
    const actions = h("div", { class: "row-actions" }, retry, del);
    const main = h("div", { class: "row-main" }, name, sub);
    const el = h("div", { class: "row row-grid", attrs: { role: "listitem", tabindex: "-1" } }, iconBox, main, type, size, time, badge, actions);
    spacer.append(el);
    return { el, id: "", item: null, tick: -1, index: -1, iconKind: "", iconBox, name, sub, type, size, time, timeRel, timeAbs, badge, badgeText: badgeTextEl, bar, retry, del, label: "" };
  }

  function fill(r: RowEl, it: Item) {
    const prev = r.item;
    r.item = it;
    r.tick = timeTick;
    const { el } = r;
    el.dataset.testid = `row-${it.id}`;
    el.dataset.id = it.id;
    el.dataset.status = it.status;
    if (r.iconKind !== it.kind) {
      r.iconKind = it.kind;
      r.iconBox.replaceChildren(icon(it.kind === "url" ? "link" : "file"));
    }
    setText(r.name, it.name);
    r.name.title = it.location;
    if (!prev || prev.status !== it.status || prev.error !== it.error || prev.stage !== it.stage || prev.duplicateOf !== it.duplicateOf || prev.location !== it.location || prev.id !== it.id || prev.attempts !== it.attempts) {
      fillSub(r, it);
    }
    setText(r.type, kindLabel(it));
    setText(r.size, it.kind === "url" && it.size === null ? "—" : humanSize(it.size));
    const abs = absoluteTime(it.addedAt);
    r.time.dateTime = it.addedAt;
    r.time.title = `Added ${abs}`;
    setText(r.timeRel, relativeTime(it.addedAt));
    setText(r.timeAbs, `Added ${abs}`);
    const b = r.badge;
    b.dataset.testid = `badge-${it.id}`;
    b.dataset.status = it.status;
    setText(r.badgeText, badgeText(it));
    b.title = it.status === "failed" ? `Failed after ${plural(it.attempts, "attempt")} of ${it.maxAttempts}` : it.status === "processing" ? `${stageLabel(it.stage) || "Processing"} — ${clampPct(it.progress)}%` : STATUS_LABEL[it.status];
    r.bar.style.transform = `scaleX(${clampPct(it.progress) / 100})`;
    r.retry.hidden = it.status !== "failed";
    r.retry.dataset.testid = `retry-${it.id}`;
    r.retry.setAttribute("aria-label", `Retry ${it.name}`);
    r.del.dataset.testid = `delete-${it.id}`;
    r.del.setAttribute("aria-label", `Delete ${it.name}`);
    r.del.title = "Delete (Del)";
    let label = `${it.name}, ${kindLabel(it)}, ${badgeText(it)}`;
    if (it.status === "failed" && it.error) label += `: ${it.error}`;
    if (it.duplicateOf) label += ", duplicate";
    label += `, added ${relativeTime(it.addedAt)} (${abs})`;
    r.label = label;
    el.setAttribute("aria-label", selected.has(it.id) ? `${label}, selected` : label);
  }

  function fillSub(r: RowEl, it: Item) {
    const parts: Node[] = [];
    if (it.status === "failed") {
      const e = h("span", { class: "row-error", data: { testid: `error-${it.id}` } }, icon("alert", "icon icon-inline"), h("span", { text: it.error ?? "Processing failed." }));
      e.title = it.error ?? "";
      parts.push(e);
    } else if (it.status === "processing") {
      parts.push(h("span", { class: "row-stage", text: `${stageLabel(it.stage) || "Working"}…` }), h("span", { class: "row-loc", text: it.location }));
    } else if (it.status === "completed" && it.duplicateOf) {
      const orig = store.get(it.duplicateOf);
      const dup = h("button", { class: "linkish", attrs: { type: "button", tabindex: "-1" }, data: { testid: `dup-${it.id}`, action: "reveal", target: it.duplicateOf } }, `Duplicate of ${orig ? orig.name : it.duplicateOf}`);
      parts.push(dup, h("span", { class: "row-loc", text: it.location }));
    } else {
      parts.push(h("span", { class: "row-loc", text: it.location }));
    }
    r.sub.replaceChildren(...parts);
    const dupBtn = r.sub.querySelector("button");
    if (dupBtn) dupBtn.tabIndex = r.el.classList.contains("active") ? 0 : -1;
  }

  /** park a row in the pool; strip ids so hidden rows never match test selectors */
  function release(r: RowEl) {
    r.el.hidden = true;
    r.id = "";
    r.item = null;
    r.el.removeAttribute("data-testid");
    r.el.removeAttribute("data-id");
    r.el.classList.remove("selected");
    delete r.el.dataset.selected;
    r.badge.removeAttribute("data-testid");
    r.retry.removeAttribute("data-testid");
    r.del.removeAttribute("data-testid");
    r.sub.replaceChildren();
    pool.push(r);
  }

  function place(r: RowEl, index: number, n: number) {
    if (r.index !== index) {
      r.index = index;
      r.el.style.transform = `translateY(${index * ROW_H}px)`;
      r.el.setAttribute("aria-posinset", String(index + 1));
    }
    if (r.el.getAttribute("aria-setsize") !== String(n)) r.el.setAttribute("aria-setsize", String(n));
  }

  function setRowActive(r: RowEl, active: boolean) {
    const ti = active ? "0" : "-1";
    if (r.el.getAttribute("tabindex") !== ti) {
      r.el.setAttribute("tabindex", ti);
      r.el.classList.toggle("active", active);
      r.retry.tabIndex = active ? 0 : -1;
      r.del.tabIndex = active ? 0 : -1;
      const dup = r.sub.querySelector("button");
      if (dup) (dup as HTMLButtonElement).tabIndex = active ? 0 : -1;
    }
  }

  // --------------------------------------------------------------- render
  function render() {
    const view = store.view();
    const n = view.length;
    const structural = store.viewVersion !== lastVersion;
    if (structural) {
      const filterChanged = lastFilter !== store.getFilter();
      lastFilter = store.getFilter();
      spacer.style.height = `${n * ROW_H}px`;
      // keep what the user is looking at still when rows arrive above it
      if (anchor && !filterChanged && viewport.scrollTop > ROW_H / 2) {
        const i = view.indexOf(anchor.id);
        if (i >= 0) {
          const target = i * ROW_H - anchor.offset;
          if (Math.abs(target - viewport.scrollTop) >= 1) viewport.scrollTop = target;
        }
      }
      if (filterChanged) viewport.scrollTop = 0;
      lastVersion = store.viewVersion;
      lastView = view;
      updateChrome();
      if (activeId && !store.get(activeId)) activeId = null;
      if (activeId && view.indexOf(activeId) < 0) activeId = null;
    }
    const top = viewport.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(n - 1, Math.ceil((top + viewportH) / ROW_H) + OVERSCAN);
    const firstVisible = Math.min(n - 1, Math.floor(top / ROW_H));
    anchor = firstVisible >= 0 ? { id: view[firstVisible]!, offset: firstVisible * ROW_H - top } : null;

    if (activeId === null && n > 0) activeId = view[Math.max(0, firstVisible)]!;
    const wanted = new Map<string, number>();
    for (let i = first; i <= last; i++) wanted.set(view[i]!, i);
    // the active row stays rendered (even off-screen) so Tab always reaches the list
    if (activeId && !wanted.has(activeId)) {
      const i = view.indexOf(activeId);
      if (i >= 0) wanted.set(activeId, i);
    }
    for (const [id, r] of rows) {
      if (!wanted.has(id)) {
        rows.delete(id);
        release(r);
      }
    }
    for (const [id, i] of wanted) {
      const it = store.get(id)!;
      let r = rows.get(id);
      if (!r) {
        r = pool.pop() ?? makeRow();
        r.id = id;
        r.item = null;
        r.index = -1;
        r.el.hidden = false;
        rows.set(id, r);
      }
      if (r.item !== it || r.tick !== timeTick) fill(r, it);
      place(r, i, n);
      setRowActive(r, id === activeId);
      const sel = selected.has(id);
      if (r.el.classList.contains("selected") !== sel) {
        r.el.classList.toggle("selected", sel);
        r.el.dataset.selected = String(sel);
        r.el.setAttribute("aria-label", sel ? `${r.label}, selected` : r.label);
      }
    }
    // cap the pool so a huge window resize does not keep thousands of nodes
    while (pool.length > 40) pool.pop()!.el.remove();
    updateCounts();
    updateSelectionBar();
  }

  function updateChrome() {
    const total = store.size;
    const n = lastView.length;
    emptyAll.hidden = total !== 0;
    const f = store.getFilter();
    emptyFiltered.hidden = !(total !== 0 && n === 0);
    if (!emptyFiltered.hidden) {
      const q = store.getQuery();
      const what = f ? `${STATUS_LABEL[f].replace("…", "").toLowerCase()} items` : "items";
      setText(emptyFilteredText, q ? `No ${what} match “${nameFilter.value.trim()}”.` : `No ${what}.`);
    }
    header.hidden = total === 0;
    viewport.hidden = total === 0 || n === 0;
    for (const [k, c] of chips) {
      c.btn.setAttribute("aria-checked", String(k === f));
      c.btn.tabIndex = k === f ? 0 : -1;
    }
  }

  let lastCountsKey = "";
  function updateCounts() {
    const c = store.visibleCounts();
    const key = `${c.total}/${c.pending}/${c.processing}/${c.completed}/${c.failed}`;
    if (key === lastCountsKey) return;
    lastCountsKey = key;
    for (const [k, ch] of chips) {
      const v = k === null ? c.total : c[k];
      setText(ch.count, v.toLocaleString("en-US"));
      ch.btn.setAttribute("aria-label", `${k === null ? "All" : STATUS_LABEL[k].replace("…", "")}: ${v.toLocaleString("en-US")}`);
    }
    retryAllBtn.disabled = c.failed === 0;
    setText(retryAllBtn.querySelector(".btn-label")!, c.failed > 0 ? `Retry all failed (${c.failed.toLocaleString("en-US")})` : "Retry all failed");
    setText(summary, `${plural(c.total, "item")}: ${c.processing} processing, ${c.pending} pending, ${c.failed} failed.`);
  }

  // ----------------------------------------------------------- behaviour
  function rowOf(target: EventTarget | null): RowEl | null {
    const el = (target as HTMLElement | null)?.closest?.(".row") as HTMLElement | null;
    const id = el?.dataset.id;
    return id ? rows.get(id) ?? null : null;
  }

  function ensureVisible(index: number) {
    const top = index * ROW_H;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_H > viewport.scrollTop + viewportH) viewport.scrollTop = top + ROW_H - viewportH;
  }

  function setActive(id: string, focus: boolean) {
    activeId = id;
    const i = store.view().indexOf(id);
    if (i >= 0) ensureVisible(i);
    render();
    if (focus) rows.get(id)?.el.focus({ preventScroll: true });
  }

  viewport.addEventListener("click", (e) => {
    const r = rowOf(e.target);
    if (!r || !r.item) return;
    const actionEl = (e.target as HTMLElement).closest("[data-action]") as HTMLElement | null;
    const action = actionEl?.dataset.action;
    if (action === "retry") {
      // the button disappears once the item is pending: keep focus on the row
      setActive(r.id, true);
      ctx.actions.retry(r.id);
    } else if (action === "delete") ctx.actions.remove(r.id);
    else if (action === "reveal" && actionEl?.dataset.target) ctx.actions.reveal(actionEl.dataset.target);
    else if (e.shiftKey) {
      selectRange(r.id);
      setActive(r.id, true);
    } else if (e.ctrlKey || e.metaKey) {
      toggleSelected(r.id);
      setActive(r.id, true);
    } else {
      if (selected.size) selected.clear();
      selAnchor = r.id;
      setActive(r.id, true);
    }
  });
  viewport.addEventListener("dblclick", (e) => {
    const r = rowOf(e.target);
    if (r && !(e.target as HTMLElement).closest("button") && !e.shiftKey && !e.ctrlKey && !e.metaKey) ctx.actions.details(r.id);
  });
  // shift-click selects text in a list otherwise
  viewport.addEventListener("mousedown", (e) => {
    if (e.shiftKey && rowOf(e.target)) e.preventDefault();
  });
  viewport.addEventListener("focusin", (e) => {
    const r = rowOf(e.target);
    if (r && r.id !== activeId) {
      activeId = r.id;
      render();
    }
  });
  viewport.addEventListener("focus", () => {
    // focus landed on the container (e.g. programmatic): move it to the active row
    if (activeId) setActive(activeId, true);
  });
  viewport.addEventListener("keydown", (e) => {
    const r = rowOf(e.target);
    if (!r) return;
    const onRow = e.target === r.el;
    const view = store.view();
    const i = view.indexOf(r.id);
    const page = Math.max(1, Math.floor(viewportH / ROW_H) - 1);
    let j = -1;
    switch (e.key) {
      case "ArrowDown": j = Math.min(view.length - 1, i + 1); break;
      case "ArrowUp": j = Math.max(0, i - 1); break;
      case "PageDown": j = Math.min(view.length - 1, i + page); break;
      case "PageUp": j = Math.max(0, i - page); break;
      case "Home": if (onRow) j = 0; break;
      case "End": if (onRow) j = view.length - 1; break;
      case "Enter": if (onRow) { e.preventDefault(); ctx.actions.details(r.id); } return;
      case "Delete":
        if (onRow) {
          e.preventDefault();
          if (selected.size > 0) deleteSelection();
          else ctx.actions.remove(r.id);
        }
        return;
      case "r": case "R":
        if (onRow && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          if (selected.size > 0) ctx.actions.retryMany([...selected]);
          else if (r.item?.status === "failed") ctx.actions.retry(r.id);
        }
        return;
      case " ":
        if (onRow) {
          e.preventDefault();
          toggleSelected(r.id);
          render();
        }
        return;
      case "a": case "A":
        if (onRow && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          for (const id of view) selected.add(id);
          render();
        }
        return;
      case "Escape":
        if (selected.size > 0) {
          e.preventDefault();
          clearSelection();
        }
        return;
      default: return;
    }
    if (j >= 0 && j < view.length) {
      e.preventDefault();
      if (e.shiftKey) {
        if (selAnchor === null || !selected.has(selAnchor)) selAnchor = r.id;
        selectRange(view[j]!);
      }
      setActive(view[j]!, true);
    }
  });

  setInterval(() => {
    timeTick += 1;
    render();
  }, 30_000);

  return {
    el,
    render,
    tick() {
      timeTick += 1;
      render();
    },
    scrollToTop() {
      viewport.scrollTop = 0;
      anchor = null;
      render();
    },
    reveal(id: string) {
      if (store.getFilter() !== null && store.get(id)?.status !== store.getFilter()) ctx.actions.setFilter(null);
      render();
      setActive(id, true);
      const r = rows.get(id);
      if (r) {
        r.el.classList.remove("flash");
        void r.el.offsetWidth;
        r.el.classList.add("flash");
      }
    },
    clearNameFilter() {
      if (nameFilter.value || store.getQuery()) {
        nameFilter.value = "";
        store.setQuery("");
        render();
      }
    },
    focusList() {
      if (activeId) setActive(activeId, true);
      else viewport.focus();
    },
  };
}

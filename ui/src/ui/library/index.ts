// Library view: toolbar and filters (toolbar.ts), multi-selection (selection.ts),
// the virtualised list (list.ts, rows.ts) and its mouse/keyboard handling
// (interaction.ts); this module lays them out and keeps the chrome in step.

import { plural, STATUS_LABEL } from "../../lib/format";
import type { Ctx } from "../context";
import { button, h, icon, setText } from "../dom";
import { bindListEvents } from "./interaction";
import { createList } from "./list";
import { createSelection } from "./selection";
import { createToolbar } from "./toolbar";

export { ROW_H } from "./rows";

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

const TIME_TICK_MS = 30_000;

export function createLibrary(ctx: Ctx): LibraryView {
  const { store } = ctx;
  const render = () => list.render();

  const toolbar = createToolbar(ctx, {
    queryChanged(toTop) {
      if (toTop) list.viewport.scrollTop = 0;
      render();
    },
    arrowDown() {
      if (list.activeId) list.setActive(list.activeId, true);
    },
  });
  const { nameFilter } = toolbar;
  const sel = createSelection(ctx, render);

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

  const emptyAll = h(
    "div",
    { class: "empty", data: { testid: "empty-state" } },
    icon("upload", "empty-icon"),
    h("h2", { text: "Drop files here, or add them" }),
    h("p", {
      text: "Drag files or folders anywhere onto this window, or paste web addresses. Trove extracts, indexes and makes them searchable on this computer.",
    }),
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

  /** empty states, header and filter chips, after the visible set changed */
  function updateChrome(view: readonly string[]) {
    const total = store.size;
    const n = view.length;
    emptyAll.hidden = total !== 0;
    const f = store.getFilter();
    emptyFiltered.hidden = !(total !== 0 && n === 0);
    if (!emptyFiltered.hidden) {
      const q = store.getQuery();
      const what = f ? `${STATUS_LABEL[f].replace("…", "").toLowerCase()} items` : "items";
      setText(emptyFilteredText, q ? `No ${what} match “${nameFilter.value.trim()}”.` : `No ${what}.`);
    }
    header.hidden = total === 0;
    list.viewport.hidden = total === 0 || n === 0;
    toolbar.syncFilter(f);
  }

  let lastCountsKey = "";
  function updateCounts() {
    const c = store.visibleCounts();
    const key = `${c.total}/${c.pending}/${c.processing}/${c.completed}/${c.failed}`;
    if (key === lastCountsKey) return;
    lastCountsKey = key;
    toolbar.setCounts(c);
    setText(
      summary,
      `${plural(c.total, "item")}: ${c.processing} processing, ${c.pending} pending, ${c.failed} failed.`,
    );
  }

  const list = createList(store, sel, {
    structural: updateChrome,
    rendered() {
      updateCounts();
      sel.update(store);
    },
  });
  bindListEvents(ctx, list, sel);

  const listWrap = h("div", { class: "list-wrap" }, sel.bar, header, list.viewport, emptyAll, emptyFiltered);
  const el = h(
    "section",
    { class: "view library", attrs: { "aria-label": "Library" }, data: { testid: "library" } },
    toolbar.el,
    listWrap,
    summary,
  );

  setInterval(() => list.tick(), TIME_TICK_MS);

  return {
    el,
    render,
    tick: () => list.tick(),
    scrollToTop: () => list.scrollToTop(),
    reveal(id: string) {
      if (store.getFilter() !== null && store.get(id)?.status !== store.getFilter()) ctx.actions.setFilter(null);
      render();
      list.setActive(id, true);
      const r = list.rows.get(id);
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
      if (list.activeId) list.setActive(list.activeId, true);
      else list.viewport.focus();
    },
  };
}

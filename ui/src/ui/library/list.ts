// The virtualised list: only rows near the viewport exist (pooled), the view
// stays anchored when rows arrive above it, and one row is active (the tab stop).
import type { Status } from "../../backend/types";
import type { ItemStore } from "../../lib/store";
import { h } from "../dom";
import { fill, makeRow, place, ROW_H, type RowEl, release, setRowActive, setRowSelected } from "./rows";
import type { Selection } from "./selection";

const OVERSCAN = 6;
const POOL_MAX = 40;

export interface List {
  viewport: HTMLDivElement;
  rows: Map<string, RowEl>;
  /** the active row's id (the list's tab stop) */
  activeId: string | null;
  readonly viewportH: number;
  render(): void;
  /** make `id` active, scroll it into view, optionally focus it */
  setActive(id: string, focus: boolean): void;
  /** the rendered row an event target belongs to */
  rowOf(target: EventTarget | null): RowEl | null;
  scrollToTop(): void;
  /** re-render relative times */
  tick(): void;
}

export function createList(
  store: ItemStore,
  sel: Selection,
  on: {
    /** the set or order of visible rows changed (before rows are placed) */
    structural(view: readonly string[]): void;
    /** after every render */
    rendered(): void;
  },
): List {
  const spacer = h("div", { class: "list-spacer" });
  const viewport = h(
    "div",
    {
      class: "list-viewport",
      attrs: { role: "list", "aria-label": "Library items", tabindex: "-1" },
      data: { testid: "item-list" },
    },
    spacer,
  );
  const rows = new Map<string, RowEl>();
  const pool: RowEl[] = [];
  let lastVersion = -1;
  let viewportH = 600;
  let timeTick = 0;
  let anchor: { id: string; offset: number } | null = null;
  let lastFilter: Status | null | undefined;

  const list: List = {
    viewport,
    rows,
    activeId: null,
    get viewportH() {
      return viewportH;
    },
    render,
    setActive,
    rowOf,
    scrollToTop() {
      viewport.scrollTop = 0;
      anchor = null;
      render();
    },
    tick() {
      timeTick += 1;
      render();
    },
  };

  new ResizeObserver(() => {
    viewportH = viewport.clientHeight || viewportH;
    render();
  }).observe(viewport);
  viewport.addEventListener("scroll", () => render(), { passive: true });

  function render() {
    const view = store.view();
    const n = view.length;
    if (store.viewVersion !== lastVersion) {
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
      on.structural(view);
      if (list.activeId && !store.get(list.activeId)) list.activeId = null;
      if (list.activeId && view.indexOf(list.activeId) < 0) list.activeId = null;
    }
    const top = viewport.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(n - 1, Math.ceil((top + viewportH) / ROW_H) + OVERSCAN);
    const firstVisible = Math.min(n - 1, Math.floor(top / ROW_H));
    anchor = firstVisible >= 0 ? { id: view[firstVisible]!, offset: firstVisible * ROW_H - top } : null;

    if (list.activeId === null && n > 0) list.activeId = view[Math.max(0, firstVisible)]!;
    const activeId = list.activeId;
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
        release(r, pool);
      }
    }
    for (const [id, i] of wanted) {
      const it = store.get(id)!;
      let r = rows.get(id);
      if (!r) {
        r = pool.pop() ?? makeRow(spacer);
        r.id = id;
        r.item = null;
        r.index = -1;
        r.el.hidden = false;
        rows.set(id, r);
      }
      if (r.item !== it || r.tick !== timeTick) fill(r, it, timeTick, sel.has(it.id), store);
      place(r, i, n);
      setRowActive(r, id === activeId);
      setRowSelected(r, sel.has(id));
    }
    // cap the pool so a huge window resize does not keep thousands of nodes
    while (pool.length > POOL_MAX) pool.pop()!.el.remove();
    on.rendered();
  }

  function rowOf(target: EventTarget | null): RowEl | null {
    const el = (target as HTMLElement | null)?.closest?.(".row") as HTMLElement | null;
    const id = el?.dataset.id;
    return id ? (rows.get(id) ?? null) : null;
  }

  function ensureVisible(index: number) {
    const top = index * ROW_H;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_H > viewport.scrollTop + viewportH) viewport.scrollTop = top + ROW_H - viewportH;
  }

  function setActive(id: string, focus: boolean) {
    list.activeId = id;
    const i = store.view().indexOf(id);
    if (i >= 0) ensureVisible(i);
    render();
    if (focus) rows.get(id)?.el.focus({ preventScroll: true });
  }

  return list;
}

// Multi-selection: the selected ids, the range anchor, and the bar of bulk actions.

import { plural } from "../../lib/format";
import type { ItemStore } from "../../lib/store";
import type { Ctx } from "../context";
import { button, h, setText } from "../dom";

export interface Selection {
  /** the bar shown while rows are selected */
  bar: HTMLElement;
  readonly ids: Set<string>;
  /** where a shift-range starts */
  anchor: string | null;
  has(id: string): boolean;
  toggle(id: string): void;
  /** select `from`…`toId` of `view` (from: the anchor, else `fallback`, else `toId`) */
  selectRange(view: readonly string[], toId: string, fallback: string | null): void;
  clear(): void;
  /** clear, then delete what was selected (with Undo) */
  deleteAll(): void;
  /** drop vanished rows, update the bar */
  update(store: ItemStore): void;
}

export function createSelection(ctx: Ctx, render: () => void): Selection {
  const ids = new Set<string>();
  const count = h("span", { class: "sel-count", data: { testid: "selection-count" } });
  const retry = button("Retry failed", {
    icon: "retry",
    class: "btn btn-small",
    testid: "selection-retry",
    onClick: () => ctx.actions.retryMany([...ids]),
  });
  const del = button("Delete", {
    icon: "trash",
    class: "btn btn-small btn-danger",
    testid: "selection-delete",
    onClick: () => sel.deleteAll(),
  });
  const clear = button("Clear selection", {
    icon: "close",
    class: "btn btn-small btn-ghost",
    testid: "selection-clear",
    onClick: () => sel.clear(),
  });
  const bar = h(
    "div",
    {
      class: "selection-bar",
      attrs: { hidden: true, role: "region", "aria-label": "Selection" },
      data: { testid: "selection-bar" },
    },
    count,
    h("span", { class: "grow" }),
    retry,
    del,
    clear,
  );

  const sel: Selection = {
    bar,
    ids,
    anchor: null,
    has: (id) => ids.has(id),
    toggle(id) {
      if (ids.has(id)) ids.delete(id);
      else ids.add(id);
      sel.anchor = id;
    },
    selectRange(view, toId, fallback) {
      const from = view.indexOf(sel.anchor ?? fallback ?? toId);
      const to = view.indexOf(toId);
      if (from < 0 || to < 0) return;
      ids.clear();
      for (let i = Math.min(from, to); i <= Math.max(from, to); i++) ids.add(view[i]!);
    },
    clear() {
      ids.clear();
      sel.anchor = null;
      render();
    },
    deleteAll() {
      const all = [...ids];
      ids.clear();
      sel.anchor = null;
      ctx.actions.removeMany(all);
      render();
    },
    update(store) {
      for (const id of ids) if (!store.get(id) || store.isHidden(id)) ids.delete(id);
      bar.hidden = ids.size === 0;
      if (ids.size === 0) return;
      let failed = 0;
      for (const id of ids) if (store.get(id)?.status === "failed") failed += 1;
      setText(count, `${plural(ids.size, "item")} selected`);
      retry.disabled = failed === 0;
      setText(retry.querySelector(".btn-label")!, failed ? `Retry ${failed} failed` : "Retry failed");
      setText(del.querySelector(".btn-label")!, `Delete ${ids.size.toLocaleString("en-US")}`);
    },
  };
  return sel;
}

// Mouse and keyboard on the list: row buttons, click/shift/ctrl selection,
// double-click and Enter for details, arrows/paging, Delete, r, Space, Ctrl+A, Esc.
import type { Ctx } from "../context";
import type { List } from "./list";
import { ROW_H } from "./rows";
import type { Selection } from "./selection";

export function bindListEvents(ctx: Ctx, list: List, sel: Selection) {
  const { viewport } = list;
  const { store } = ctx;

  viewport.addEventListener("click", (e) => {
    const r = list.rowOf(e.target);
    if (!r?.item) return;
    const actionEl = (e.target as HTMLElement).closest("[data-action]") as HTMLElement | null;
    const action = actionEl?.dataset.action;
    if (action === "retry") {
      // the button disappears once the item is pending: keep focus on the row
      list.setActive(r.id, true);
      ctx.actions.retry(r.id);
    } else if (action === "delete") ctx.actions.remove(r.id);
    else if (action === "reveal" && actionEl?.dataset.target) ctx.actions.reveal(actionEl.dataset.target);
    else if (e.shiftKey) {
      sel.selectRange(store.view(), r.id, list.activeId);
      list.setActive(r.id, true);
    } else if (e.ctrlKey || e.metaKey) {
      sel.toggle(r.id);
      list.setActive(r.id, true);
    } else {
      if (sel.ids.size) sel.ids.clear();
      sel.anchor = r.id;
      list.setActive(r.id, true);
    }
  });
  viewport.addEventListener("dblclick", (e) => {
    const r = list.rowOf(e.target);
    if (r && !(e.target as HTMLElement).closest("button") && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
      ctx.actions.details(r.id);
    }
  });
  // shift-click selects text in a list otherwise
  viewport.addEventListener("mousedown", (e) => {
    if (e.shiftKey && list.rowOf(e.target)) e.preventDefault();
  });
  viewport.addEventListener("focusin", (e) => {
    const r = list.rowOf(e.target);
    if (r && r.id !== list.activeId) {
      list.activeId = r.id;
      list.render();
    }
  });
  viewport.addEventListener("focus", () => {
    // focus landed on the container (e.g. programmatic): move it to the active row
    if (list.activeId) list.setActive(list.activeId, true);
  });
  viewport.addEventListener("keydown", (e) => {
    const r = list.rowOf(e.target);
    if (!r) return;
    const onRow = e.target === r.el;
    const view = store.view();
    const i = view.indexOf(r.id);
    const page = Math.max(1, Math.floor(list.viewportH / ROW_H) - 1);
    let j = -1;
    switch (e.key) {
      case "ArrowDown":
        j = Math.min(view.length - 1, i + 1);
        break;
      case "ArrowUp":
        j = Math.max(0, i - 1);
        break;
      case "PageDown":
        j = Math.min(view.length - 1, i + page);
        break;
      case "PageUp":
        j = Math.max(0, i - page);
        break;
      case "Home":
        if (onRow) j = 0;
        break;
      case "End":
        if (onRow) j = view.length - 1;
        break;
      case "Enter":
        if (onRow) {
          e.preventDefault();
          ctx.actions.details(r.id);
        }
        return;
      case "Delete":
        if (onRow) {
          e.preventDefault();
          if (sel.ids.size > 0) sel.deleteAll();
          else ctx.actions.remove(r.id);
        }
        return;
      case "r":
      case "R":
        if (onRow && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          if (sel.ids.size > 0) ctx.actions.retryMany([...sel.ids]);
          else if (r.item?.status === "failed") ctx.actions.retry(r.id);
        }
        return;
      case " ":
        if (onRow) {
          e.preventDefault();
          sel.toggle(r.id);
          list.render();
        }
        return;
      case "a":
      case "A":
        if (onRow && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          for (const id of view) sel.ids.add(id);
          list.render();
        }
        return;
      case "Escape":
        if (sel.ids.size > 0) {
          e.preventDefault();
          sel.clear();
        }
        return;
      default:
        return;
    }
    if (j >= 0 && j < view.length) {
      e.preventDefault();
      if (e.shiftKey) {
        if (sel.anchor === null || !sel.ids.has(sel.anchor)) sel.anchor = r.id;
        sel.selectRange(view, view[j]!, list.activeId);
      }
      list.setActive(view[j]!, true);
    }
  });
}

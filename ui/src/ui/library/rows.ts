// One pooled list row: its DOM, filling it from an Item, parking it.
import type { Item } from "../../backend/types";
import {
  absoluteTime,
  badgeText,
  clampPct,
  humanSize,
  kindLabel,
  missingText,
  plural,
  relativeTime,
  STATUS_LABEL,
  stageLabel,
} from "../../lib/format";
import type { ItemStore } from "../../lib/store";
import { button, h, icon, setText } from "../dom";

export const ROW_H = 60;

export interface RowEl {
  el: HTMLDivElement;
  id: string;
  item: Item | null;
  tick: number;
  index: number;
  iconKind: string;
  iconBox: HTMLSpanElement;
  name: HTMLDivElement;
  /** "Missing": the file was deleted from a watched folder and the item kept */
  missing: HTMLSpanElement;
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

/** A new (empty) row, appended to `spacer`. */
export function makeRow(spacer: HTMLElement): RowEl {
  const iconBox = h("span", { class: "row-icon" });
  const name = h("div", { class: "row-name" });
  const missing = h(
    "span",
    { class: "row-missing", attrs: { hidden: true } },
    icon("alert", "icon icon-inline"),
    h("span", { text: "Missing" }),
  );
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
  const main = h("div", { class: "row-main" }, h("div", { class: "row-title" }, name, missing), sub);
  const el = h(
    "div",
    { class: "row row-grid", attrs: { role: "listitem", tabindex: "-1" } },
    iconBox,
    main,
    type,
    size,
    time,
    badge,
    actions,
  );
  spacer.append(el);
  return {
    el,
    id: "",
    item: null,
    tick: -1,
    index: -1,
    iconKind: "",
    iconBox,
    name,
    missing,
    sub,
    type,
    size,
    time,
    timeRel,
    timeAbs,
    badge,
    badgeText: badgeTextEl,
    bar,
    retry,
    del,
    label: "",
  };
}

/** Show `it` in `r` (`tick`: the relative-time generation; `selected`: for the label). */
export function fill(r: RowEl, it: Item, tick: number, selected: boolean, store: ItemStore) {
  const prev = r.item;
  r.item = it;
  r.tick = tick;
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
  if (
    !prev ||
    prev.status !== it.status ||
    prev.error !== it.error ||
    prev.stage !== it.stage ||
    prev.duplicateOf !== it.duplicateOf ||
    prev.location !== it.location ||
    prev.id !== it.id ||
    prev.attempts !== it.attempts
  ) {
    fillSub(r, it, store);
  }
  const gone = it.missingSince ? missingText(it.missingSince) : null;
  r.missing.hidden = gone === null;
  if (gone === null) {
    r.missing.removeAttribute("title");
    r.missing.removeAttribute("data-testid");
  } else {
    r.missing.title = gone;
    r.missing.dataset.testid = `missing-${it.id}`;
  }
  el.toggleAttribute("data-missing", gone !== null);
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
  b.title =
    it.status === "failed"
      ? `Failed after ${plural(it.attempts, "attempt")} of ${it.maxAttempts}`
      : it.status === "processing"
        ? `${stageLabel(it.stage) || "Processing"} — ${clampPct(it.progress)}%`
        : STATUS_LABEL[it.status];
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
  if (gone) label += `, missing: ${gone}`;
  label += `, added ${relativeTime(it.addedAt)} (${abs})`;
  r.label = label;
  el.setAttribute("aria-label", selected ? `${label}, selected` : label);
}

/** The second line: the error, the stage, "Duplicate of …", or the location. */
function fillSub(r: RowEl, it: Item, store: ItemStore) {
  const parts: Node[] = [];
  if (it.status === "failed") {
    const e = h(
      "span",
      { class: "row-error", data: { testid: `error-${it.id}` } },
      icon("alert", "icon icon-inline"),
      h("span", { text: it.error ?? "Processing failed." }),
    );
    e.title = it.error ?? "";
    parts.push(e);
  } else if (it.status === "processing") {
    parts.push(
      h("span", { class: "row-stage", text: `${stageLabel(it.stage) || "Working"}…` }),
      h("span", { class: "row-loc", text: it.location }),
    );
  } else if (it.status === "completed" && it.duplicateOf) {
    const orig = store.get(it.duplicateOf);
    const dup = h(
      "button",
      {
        class: "linkish",
        attrs: { type: "button", tabindex: "-1" },
        data: { testid: `dup-${it.id}`, action: "reveal", target: it.duplicateOf },
      },
      `Duplicate of ${orig ? orig.name : it.duplicateOf}`,
    );
    parts.push(dup, h("span", { class: "row-loc", text: it.location }));
  } else {
    parts.push(h("span", { class: "row-loc", text: it.location }));
  }
  r.sub.replaceChildren(...parts);
  const dupBtn = r.sub.querySelector("button");
  if (dupBtn) dupBtn.tabIndex = r.el.classList.contains("active") ? 0 : -1;
}

/** Park a row in the pool; strip ids so hidden rows never match test selectors. */
export function release(r: RowEl, pool: RowEl[]) {
  r.el.hidden = true;
  r.id = "";
  r.item = null;
  r.el.removeAttribute("data-testid");
  r.el.removeAttribute("data-id");
  r.el.classList.remove("selected");
  delete r.el.dataset.selected;
  r.badge.removeAttribute("data-testid");
  r.missing.removeAttribute("data-testid");
  r.retry.removeAttribute("data-testid");
  r.del.removeAttribute("data-testid");
  r.sub.replaceChildren();
  pool.push(r);
}

/** Position a row at `index` of `n`. */
export function place(r: RowEl, index: number, n: number) {
  if (r.index !== index) {
    r.index = index;
    r.el.style.transform = `translateY(${index * ROW_H}px)`;
    r.el.setAttribute("aria-posinset", String(index + 1));
  }
  if (r.el.getAttribute("aria-setsize") !== String(n)) r.el.setAttribute("aria-setsize", String(n));
}

/** The active row is the list's one tab stop; its buttons become reachable too. */
export function setRowActive(r: RowEl, active: boolean) {
  const ti = active ? "0" : "-1";
  if (r.el.getAttribute("tabindex") !== ti) {
    r.el.setAttribute("tabindex", ti);
    r.el.classList.toggle("active", active);
    r.retry.tabIndex = active ? 0 : -1;
    r.del.tabIndex = active ? 0 : -1;
    const dup = r.sub.querySelector("button");
    if (dup) dup.tabIndex = active ? 0 : -1;
  }
}

/** Reflect selection on a rendered row. */
export function setRowSelected(r: RowEl, sel: boolean) {
  if (r.el.classList.contains("selected") !== sel) {
    r.el.classList.toggle("selected", sel);
    r.el.dataset.selected = String(sel);
    r.el.setAttribute("aria-label", sel ? `${r.label}, selected` : r.label);
  }
}

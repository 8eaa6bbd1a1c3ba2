// The library's top: action toolbar, status filter chips (a radio group) and
// the name filter.
import type { Counts, Status } from "../../backend/types";
import { STATUS_LABEL } from "../../lib/format";
import type { Ctx } from "../context";
import { button, h, setText } from "../dom";
import { keysFor } from "../shortcuts";

const FILTERS: (Status | null)[] = [null, "pending", "processing", "completed", "failed"];
const NAME_DEBOUNCE_MS = 120;

export interface Toolbar {
  /** toolbar + name filter + status filter */
  el: HTMLElement;
  nameFilter: HTMLInputElement;
  /** mark the current status filter */
  syncFilter(f: Status | null): void;
  /** chip counts and the Retry all button */
  setCounts(c: Counts): void;
}

export function createToolbar(
  ctx: Ctx,
  on: {
    /** the name query changed (debounced, or cleared with Escape); `toTop`: scroll to the top */
    queryChanged(toTop: boolean): void;
    /** ↓ in the name filter: into the list */
    arrowDown(): void;
  },
): Toolbar {
  const { store } = ctx;
  const retryAllBtn = button("Retry all failed", {
    icon: "retry",
    testid: "retry-all",
    onClick: () => ctx.actions.retryAll(),
  });
  const toolbar = h(
    "div",
    { class: "toolbar", attrs: { role: "toolbar", "aria-label": "Library actions" } },
    button("Add files…", {
      icon: "file",
      class: "btn btn-primary",
      testid: "add-files",
      title: `Add files (${keysFor("addFiles")})`,
      onClick: () => ctx.actions.addFiles(),
    }),
    button("Add folder…", {
      icon: "folder",
      testid: "add-folder",
      title: `Add a folder (${keysFor("addFolder")})`,
      onClick: () => ctx.actions.addFolder(),
    }),
    button("Add URLs…", {
      icon: "link",
      testid: "add-urls",
      title: `Add web pages (${keysFor("addUrls")})`,
      onClick: () => ctx.actions.addUrls(),
    }),
    h("span", { class: "toolbar-sep", attrs: { "aria-hidden": "true" } }),
    retryAllBtn,
    button("Refresh links", { icon: "retry", testid: "refresh-links", onClick: () => ctx.actions.refreshLinks() }),
  );

  const chips = new Map<Status | null, { btn: HTMLButtonElement; count: HTMLSpanElement }>();
  const filterBar = h("div", {
    class: "filters",
    attrs: { role: "radiogroup", "aria-label": "Show items by status" },
  });
  for (const f of FILTERS) {
    const count = h("span", { class: "chip-count", data: { testid: `count-${f ?? "all"}` } });
    const btn = h(
      "button",
      {
        class: "chip",
        attrs: { type: "button", role: "radio", "aria-checked": f === null ? "true" : "false" },
        data: { testid: `filter-${f ?? "all"}`, status: f ?? "all" },
      },
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
    attrs: {
      type: "search",
      placeholder: "Filter by name…",
      "aria-label": "Filter items by name or location",
      autocomplete: "off",
      spellcheck: "false",
    },
    data: { testid: "name-filter" },
  });
  let nameTimer: ReturnType<typeof setTimeout> | null = null;
  nameFilter.addEventListener("input", () => {
    if (nameTimer) clearTimeout(nameTimer);
    nameTimer = setTimeout(() => {
      store.setQuery(nameFilter.value);
      on.queryChanged(true);
    }, NAME_DEBOUNCE_MS);
  });
  nameFilter.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && nameFilter.value) {
      e.preventDefault();
      nameFilter.value = "";
      store.setQuery("");
      on.queryChanged(false);
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      on.arrowDown();
    }
  });

  function syncFilter(f: Status | null) {
    for (const [k, c] of chips) {
      c.btn.setAttribute("aria-checked", String(k === f));
      c.btn.tabIndex = k === f ? 0 : -1;
    }
  }

  function setCounts(c: Counts) {
    for (const [k, ch] of chips) {
      const v = k === null ? c.total : c[k];
      setText(ch.count, v.toLocaleString("en-US"));
      const label = k === null ? "All" : STATUS_LABEL[k].replace("…", "");
      ch.btn.setAttribute("aria-label", `${label}: ${v.toLocaleString("en-US")}`);
    }
    retryAllBtn.disabled = c.failed === 0;
    setText(
      retryAllBtn.querySelector(".btn-label")!,
      c.failed > 0 ? `Retry all failed (${c.failed.toLocaleString("en-US")})` : "Retry all failed",
    );
  }

  const el = h("div", { class: "library-top" }, toolbar, nameFilter, filterBar);
  return { el, nameFilter, syncFilter, setCounts };
}

// Search view: debounced query, filters (type, source, when added) composed into the
// engine's query syntax, ranked hits with highlighted snippets (or "no close matches: the
// nearest"), "more like this" with a way back, and the document reader (reader.ts) that
// highlights and scrolls to the opened chunk.
import type { Folder, SearchHit, SearchResponse } from "../backend/types";
import { errorMessage, LIMITS } from "../backend/types";
import { plural } from "../lib/format";
import {
  ADDED_CHOICES,
  type AddedRange,
  activeFilters,
  type Choice,
  composeQuery,
  conflicts,
  folderSource,
  NO_FILTERS,
  type SearchFilters,
  SOURCE_CHOICES,
  sourceFolder,
  TYPE_CHOICES,
} from "../lib/search-filters";
import { renderSnippet } from "../lib/snippet";
import type { Ctx } from "./context";
import { button, h, icon, setText } from "./dom";
import { createReader, pageLabel } from "./reader";

export interface SearchView {
  el: HTMLElement;
  focus(): void;
}

const LIMIT = 50;
const DEBOUNCE_MS = 180;

/** One screen of results: a search's, or the passages like one hit's ("more like this"). */
interface Page {
  items: HTMLLIElement[];
  status: string;
  /** nothing was a close match: the hits are the nearest few */
  nearest: boolean;
  notice: string | null;
  canBuildIndex: boolean;
  /** the box's text the results belong to */
  query: string;
  /** what was sent to `search` (filters and text) */
  sent: string;
  /** the hit whose passage these are like */
  like: SearchHit | null;
  scroll: number;
}

const EMPTY_PAGE: Page = {
  items: [],
  status: "",
  nearest: false,
  notice: null,
  canBuildIndex: false,
  query: "",
  sent: "",
  like: null,
  scroll: 0,
};

/** The search box's syntax, for the help panel: what to type, what it finds. */
const SYNTAX: readonly [string[], string][] = [
  [["heron marsh"], "Passages with these words; those with all of them come first"],
  [['"tidal marsh"'], "This exact phrase"],
  [["migrat*"], "Words that start with “migrat” (two letters at least)"],
  [["-draft", '-"old copy"'], "Leave out passages with this word or phrase"],
  [
    ["type:pdf", "type:py"],
    "One kind of document: pdf, word, slides, sheet, email, book, html, markdown, text, image, code, link (web pages), file — or a file extension",
  ],
  [["in:Notes", 'in:"My Notes"'], "Files whose path, or links whose address, contains this"],
  [["after:2026-01-31", "before:2026-03-01"], "Added on or after that day, or before it (UTC)"],
];

export function createSearch(ctx: Ctx): SearchView {
  const input = h("input", {
    class: "search-input",
    attrs: {
      type: "search",
      placeholder: 'Search — "exact phrase", word*, -word, type:pdf',
      "aria-label": "Search your library",
      "aria-describedby": "search-syntax-hint",
      autocomplete: "off",
      spellcheck: "false",
      "aria-controls": "search-results",
      // The engine uses at most this much of a query (and says so); typing stops here.
      maxlength: String(LIMITS.queryMaxChars),
      title: `Up to ${LIMITS.queryMaxChars} characters or ${LIMITS.queryMaxTerms} words are used.`,
    },
    data: { testid: "search-input" },
  });

  // ------------------------------------------------------------ syntax help
  const helpBtn = h("button", {
    class: "btn btn-icon btn-ghost search-help-btn",
    text: "?",
    attrs: {
      type: "button",
      "aria-label": "Search syntax",
      title: "Search syntax",
      "aria-expanded": "false",
      "aria-controls": "search-syntax",
    },
    data: { testid: "search-syntax-toggle" },
  });
  const syntaxList = h("dl", { class: "syntax-list" });
  for (const [examples, meaning] of SYNTAX) {
    const dt = h("dt", {});
    examples.forEach((ex, i) => {
      if (i > 0) dt.append(" ");
      dt.append(h("code", { text: ex }));
    });
    syntaxList.append(dt, h("dd", { text: meaning }));
  }
  const syntax = h(
    "section",
    {
      class: "syntax-help",
      // focusable: it scrolls in a short window
      attrs: { id: "search-syntax", hidden: true, tabindex: "0", "aria-labelledby": "search-syntax-title" },
      data: { testid: "search-syntax" },
    },
    h("h2", { class: "syntax-title", attrs: { id: "search-syntax-title" }, text: "Search syntax" }),
    syntaxList,
    h("p", {
      class: "syntax-note",
      text:
        "Combine them freely: report type:pdf -draft after:2026-01-01. Several kinds (type:pdf type:word) or in: mean any of them; a kind with link or file means both (type:pdf type:link: PDFs added as links). " +
        "Common words (the, a, in …) only count when they are all you type. The filters below add type:, in: and after: for you.",
    }),
  );
  const syntaxHint = h("span", {
    class: "sr-only",
    attrs: { id: "search-syntax-hint" },
    text: "Quotes find a phrase, a final star a word's start, a minus leaves a word out; type:, in:, after: and before: narrow the results. The Search syntax button lists them.",
  });
  const setHelp = (open: boolean) => {
    syntax.hidden = !open;
    helpBtn.setAttribute("aria-expanded", String(open));
  };
  helpBtn.addEventListener("click", () => setHelp(helpBtn.getAttribute("aria-expanded") !== "true"));
  const closeHelp = (e: KeyboardEvent) => {
    if (e.key !== "Escape" || syntax.hidden) return;
    e.preventDefault();
    e.stopPropagation();
    setHelp(false);
    helpBtn.focus();
  };
  helpBtn.addEventListener("keydown", closeHelp);
  syntax.addEventListener("keydown", closeHelp);

  // ---------------------------------------------------------------- filters
  let filters: SearchFilters = { ...NO_FILTERS };
  const select = (label: string, testid: string, choices: readonly Choice[]) => {
    const sel = h("select", { class: "filter-select", data: { testid } });
    for (const c of choices) sel.append(h("option", { attrs: { value: c.value }, text: c.label }));
    const wrap = h("label", { class: "filter" }, h("span", { class: "filter-label", text: label }), sel);
    return { sel, wrap };
  };
  const typeF = select("Type", "filter-type", TYPE_CHOICES);
  const sourceF = select("Source", "filter-source", SOURCE_CHOICES);
  const addedF = select("Added", "filter-added", ADDED_CHOICES);
  const folderGroup = h("optgroup", { attrs: { label: "Watched folders" } });
  const clearBtn = button("Clear filters", { class: "btn btn-link filters-clear", testid: "filters-clear" });
  clearBtn.hidden = true;
  const filterBar = h(
    "div",
    { class: "search-filters", attrs: { role: "group", "aria-label": "Filters" }, data: { testid: "search-filters" } },
    typeF.wrap,
    sourceF.wrap,
    addedF.wrap,
  );

  /** Show the filters' state: set ones stand out, impossible pairs are disabled, Clear counts them. */
  function showFilters() {
    typeF.sel.value = filters.type;
    sourceF.sel.value = filters.source;
    addedF.sel.value = filters.added;
    for (const [f, on] of [
      [typeF, filters.type],
      [sourceF, filters.source],
      [addedF, filters.added],
    ] as const) {
      f.wrap.classList.toggle("active", on !== "");
      f.sel.dataset.active = String(on !== "");
      f.sel.title = f.sel.selectedOptions[0]?.textContent ?? "";
    }
    for (const o of typeF.sel.options) o.disabled = conflicts(o.value, filters.source);
    for (const o of sourceF.sel.options) o.disabled = conflicts(filters.type, o.value);
    const n = activeFilters(filters);
    clearBtn.hidden = n === 0;
    setText(clearBtn.querySelector(".btn-label")!, n === 1 ? "Clear filter" : `Clear ${n} filters`);
  }

  const onFilter = () => {
    filters = {
      type: typeF.sel.value,
      source: sourceF.sel.value,
      added: addedF.sel.value as AddedRange,
    };
    showFilters();
    if (timer) clearTimeout(timer);
    void run();
  };
  for (const f of [typeF, sourceF, addedF]) f.sel.addEventListener("change", onFilter);
  clearBtn.addEventListener("click", () => {
    filters = { ...NO_FILTERS };
    showFilters();
    input.focus();
    void run();
  });

  /** The watched folders as Source entries (`in:<path>`); a chosen folder stays listed if it goes. */
  let folders: Folder[] = [];
  let loadingFolders = false;
  async function refreshFolders() {
    if (loadingFolders) return;
    loadingFolders = true;
    try {
      folders = await ctx.backend.listFolders();
    } catch {
      return; // the menu keeps what it had; searching does not depend on it
    } finally {
      loadingFolders = false;
    }
    const paths = folders.map((f) => f.path);
    const chosen = sourceFolder(filters.source);
    if (chosen !== null && !paths.includes(chosen)) paths.push(chosen);
    folderGroup.replaceChildren(
      ...paths.map((p) =>
        h("option", {
          attrs: { value: folderSource(p) },
          text: folders.some((f) => f.path === p) ? p : `${p} (no longer watched)`,
        }),
      ),
    );
    if (paths.length && !folderGroup.isConnected) sourceF.sel.append(folderGroup);
    else if (!paths.length) folderGroup.remove();
    showFilters();
  }
  filterBar.addEventListener("pointerenter", () => void refreshFolders());
  filterBar.addEventListener("focusin", (e) => {
    if (e.target === typeF.sel) void refreshFolders();
  });

  // ------------------------------------------------------------ notice, status
  const noticeText = h("span", { data: { testid: "search-notice-text" } });
  const buildBtn = button("Build semantic index", { class: "btn btn-small", testid: "build-index" });
  buildBtn.hidden = true;
  const notice = h(
    "p",
    { class: "notice", attrs: { hidden: true }, data: { testid: "search-notice" } },
    noticeText,
    " ",
    buildBtn,
  );
  buildBtn.addEventListener("click", async () => {
    buildBtn.disabled = true;
    setText(status, "Building the semantic index…");
    try {
      const n = await ctx.backend.buildSemanticIndex();
      ctx.toast.show(`Semantic index built (${n.toLocaleString("en-US")} passages embedded).`);
      await run();
    } catch (e) {
      setText(status, `Could not build the semantic index: ${errorMessage(e)}`);
    } finally {
      buildBtn.disabled = false;
    }
  });
  const status = h("p", {
    class: "search-status muted small",
    attrs: { role: "status", "aria-live": "polite" },
    data: { testid: "search-status" },
  });
  const backBtn = button("Back", { icon: "back", class: "btn btn-small", testid: "similar-back" });
  backBtn.title = "Back to the previous results (Esc)";
  const likeTitle = h("h2", { class: "similar-title", data: { testid: "similar-title" } });
  const likeBar = h(
    "div",
    { class: "similar-bar", attrs: { hidden: true }, data: { testid: "similar-bar" } },
    backBtn,
    likeTitle,
  );
  backBtn.addEventListener("click", () => back());
  const results = h("ol", {
    class: "results",
    attrs: { id: "search-results", "aria-label": "Search results" },
    data: { testid: "search-results" },
  });

  const reader = createReader(ctx, {
    testid: "doc",
    empty: "Open a result to read it here, with the matching passage highlighted.",
    emptyIcon: "search",
    onClose: () => {
      for (const b of results.querySelectorAll(".hit[aria-current]")) b.removeAttribute("aria-current");
    },
  });

  const searchCol = h(
    "div",
    { class: "search-col" },
    h(
      "div",
      { class: "search-box-row" },
      h("div", { class: "search-box" }, icon("search", "icon search-icon"), input),
      helpBtn,
    ),
    syntaxHint,
    syntax,
    filterBar,
    notice,
    likeBar,
    h("div", { class: "status-row" }, status, clearBtn),
    results,
  );
  const el = h(
    "section",
    { class: "view search", attrs: { "aria-label": "Search" }, data: { testid: "search" } },
    searchCol,
    reader.el,
  );

  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** what the list shows, and the pages "Back" returns to (more like this) */
  let page: Page = { ...EMPTY_PAGE };
  const history: Page[] = [];

  function show(p: Page) {
    page = p;
    results.replaceChildren(...p.items);
    for (const b of results.querySelectorAll<HTMLElement>("button.hit")) {
      // the passage open in the reader is `aria-current` in whichever list shows it
      if (reader.chunkId !== null && b.dataset.chunkId === String(reader.chunkId))
        b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
    setText(status, p.status);
    status.classList.toggle("nearest", p.nearest);
    results.classList.toggle("nearest", p.nearest);
    results.dataset.nearest = String(p.nearest);
    results.dataset.query = p.query;
    results.dataset.sent = p.sent;
    results.dataset.like = p.like ? String(p.like.chunkId) : "";
    results.setAttribute("aria-label", p.like ? `Passages like ${p.like.name}` : "Search results");
    notice.hidden = !p.notice;
    setText(noticeText, p.notice ?? "");
    buildBtn.hidden = !p.canBuildIndex;
    likeBar.hidden = !p.like;
    setText(likeTitle, p.like ? `Like “${p.like.name}”` : "");
  }

  /** The results of a search or of "more like this", as a page. */
  function pageOf(res: SearchResponse, text: string, sent: string, like: SearchHit | null): Page {
    const hits = res.hits;
    const more = res.mode !== "keyword"; // without vectors "more like this" cannot work
    const n = hits.length;
    let line: string;
    if (like) {
      line =
        n === 0
          ? "Nothing else in your library is like this passage."
          : res.noCloseMatches
            ? "No close matches — the nearest:"
            : `${plural(n, "passage")} from other documents · by meaning`;
    } else if (res.noCloseMatches && n > 0) {
      line = `No close matches for “${text}” — the nearest:`;
    } else if (n === 0) {
      line = text
        ? `No results for “${text}”${activeFilters(filters) ? " with these filters" : ""}.`
        : "No documents match these filters.";
    } else if (hits.every((h) => h.score === 0)) {
      // only filters: the documents they let through, newest first
      line = n === LIMIT ? `Newest ${LIMIT} documents` : `${plural(n, "document")} · newest first`;
    } else {
      const modeLabel = res.mode === "keyword" ? "keyword" : res.mode === "semantic" ? "semantic" : "hybrid";
      line = `${n === LIMIT ? `Top ${LIMIT}` : n} result${n === 1 ? "" : "s"} · ${modeLabel} search`;
    }
    return {
      items: hits.map((hit, i) => renderHit(hit, i, more)),
      status: line,
      nearest: res.noCloseMatches && n > 0,
      notice: res.notice,
      canBuildIndex: res.canBuildIndex,
      query: text,
      sent,
      like,
      scroll: 0,
    };
  }

  input.addEventListener("input", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      if (timer) clearTimeout(timer);
      void run();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      (results.querySelector("button") as HTMLButtonElement | null)?.focus();
    } else if (e.key === "Escape" && input.value && history.length === 0) {
      e.preventDefault();
      input.value = "";
      void run();
    }
  });
  // Esc in the results (or the box) while showing "more like this": back to where it came from.
  searchCol.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.defaultPrevented && history.length > 0) {
      e.preventDefault();
      back();
    }
  });
  results.addEventListener("keydown", (e) => {
    const t = e.target as HTMLElement;
    const li = t.closest("li");
    if (!li || !results.contains(li)) return;
    const rows = Array.from(results.children) as HTMLLIElement[];
    const i = rows.indexOf(li);
    const onMore = t.classList.contains("hit-more");
    /** a row's hit, or its "More like this" when moving along that column */
    const at = (j: number) => {
      const row = rows[j];
      return (onMore ? row?.querySelector<HTMLButtonElement>(".hit-more") : null) ?? row?.querySelector("button");
    };
    let next: HTMLElement | null | undefined;
    if (e.key === "ArrowDown") next = at(Math.min(rows.length - 1, i + 1));
    else if (e.key === "ArrowUp") next = i === 0 ? input : at(i - 1);
    else if (e.key === "Home") next = at(0);
    else if (e.key === "End") next = at(rows.length - 1);
    else if (e.key === "ArrowRight" && !onMore) next = li.querySelector<HTMLButtonElement>(".hit-more");
    else if (e.key === "ArrowLeft" && onMore) next = li.querySelector<HTMLButtonElement>(".hit");
    else return;
    e.preventDefault();
    next?.focus();
  });
  async function run() {
    const text = input.value.trim();
    const sent = composeQuery(text, filters, new Date());
    const my = ++seq;
    history.length = 0;
    if (!sent) {
      el.classList.remove("loading");
      show({ ...EMPTY_PAGE });
      return;
    }
    el.classList.add("loading");
    let res: SearchResponse;
    try {
      res = await ctx.backend.search(sent, LIMIT);
    } catch (e) {
      if (my !== seq) return;
      el.classList.remove("loading");
      setText(status, `Search failed: ${errorMessage(e)}`);
      return;
    }
    if (my !== seq) return; // a newer query is on its way
    el.classList.remove("loading");
    show(pageOf(res, text, sent, null));
  }

  /** "More like this": the passages nearest in meaning to a hit's, in place of the results. */
  async function moreLike(hit: SearchHit) {
    const my = ++seq;
    el.classList.add("loading");
    let res: SearchResponse;
    try {
      // The filters of the search it came from (the engine ignores the words).
      res = await ctx.backend.similar(hit.chunkId, LIMIT, page.sent);
    } catch (e) {
      if (my !== seq) return;
      el.classList.remove("loading");
      ctx.toast.show(`Could not find similar passages: ${errorMessage(e)}`, { kind: "error" });
      return;
    }
    if (my !== seq) return;
    el.classList.remove("loading");
    page.scroll = results.scrollTop;
    history.push(page);
    show(pageOf(res, page.query, page.sent, hit));
    results.scrollTop = 0;
    (results.querySelector<HTMLButtonElement>("button.hit") ?? backBtn).focus();
  }

  /** Back to the results "more like this" replaced, focus on the hit it started from. */
  function back() {
    const prev = history.pop();
    if (!prev) return;
    ++seq; // a "more like this" still on its way is not wanted now
    el.classList.remove("loading");
    const from = page.like;
    show(prev);
    results.scrollTop = prev.scroll;
    const row = from
      ? prev.items.find((li) => li.querySelector<HTMLElement>(".hit")?.dataset.chunkId === String(from.chunkId))
      : undefined;
    (row?.querySelector<HTMLButtonElement>(".hit-more") ?? row?.querySelector("button") ?? input).focus();
  }

  function renderHit(hit: SearchHit, i: number, more: boolean): HTMLLIElement {
    const snippet = h("p", { class: "hit-snippet", data: { testid: "search-snippet" } });
    renderSnippet(snippet, hit.snippet);
    const b = h(
      "button",
      {
        class: "hit",
        attrs: { type: "button" },
        data: { testid: `search-hit-${i}`, itemId: hit.itemId, chunkId: String(hit.chunkId) },
      },
      h("span", { class: "hit-name", text: hit.name }),
      snippet,
      h("span", {
        class: "hit-loc muted small",
        text: hit.page != null ? `${hit.location} · ${pageLabel(hit)}` : hit.location,
        data: { testid: "search-hit-loc" },
      }),
    );
    b.addEventListener("click", () => {
      for (const x of results.querySelectorAll(".hit[aria-current]")) x.removeAttribute("aria-current");
      b.setAttribute("aria-current", "true");
      void reader.open(hit);
    });
    const li = h("li", { class: "hit-row" }, b);
    if (more) {
      const m = button("More like this", { icon: "similar", class: "btn btn-small btn-ghost hit-more" });
      m.dataset.testid = `search-more-${i}`;
      m.setAttribute("aria-label", `More like this: ${hit.name}`);
      m.title = "Passages of other documents nearest in meaning to this one";
      m.addEventListener("click", () => void moreLike(hit));
      li.classList.add("has-more");
      li.append(m);
    }
    return li;
  }

  showFilters();
  return {
    el,
    focus() {
      input.focus();
      input.select();
      void refreshFolders();
    },
  };
}

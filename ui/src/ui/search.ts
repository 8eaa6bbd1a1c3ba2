// Search view: debounced query, ranked hits with highlighted snippets, and a
// document reader that highlights and scrolls to the opened chunk.
import type { SearchHit, SearchResponse } from "../backend/types";
import { errorMessage, LIMITS } from "../backend/types";
import { renderSnippet, splitAround } from "../lib/snippet";
import type { Ctx } from "./context";
import { button, h, icon, setText } from "./dom";

export interface SearchView {
  el: HTMLElement;
  focus(): void;
}

const LIMIT = 50;
const DEBOUNCE_MS = 180;

export function createSearch(ctx: Ctx): SearchView {
  const input = h("input", {
    class: "search-input",
    attrs: {
      type: "search",
      placeholder: "Search your library…",
      "aria-label": "Search your library",
      autocomplete: "off",
      spellcheck: "false",
      "aria-controls": "search-results",
      // The engine uses at most this much of a query (and says so); typing stops here.
      maxlength: String(LIMITS.queryMaxChars),
      title: `Up to ${LIMITS.queryMaxChars} characters or ${LIMITS.queryMaxTerms} words are used.`,
    },
    data: { testid: "search-input" },
  });
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
  const results = h("ol", {
    class: "results",
    attrs: { id: "search-results", "aria-label": "Search results" },
    data: { testid: "search-results" },
  });

  const docTitle = h("h2", { class: "doc-title" });
  const docLoc = h("p", { class: "doc-loc muted small" });
  const docText = h("div", { class: "doc-text", attrs: { tabindex: "0", "aria-label": "Document text" } });
  const closeDoc = button("Close document", { icon: "close", iconOnly: true, class: "btn btn-icon btn-ghost" });
  const revealBtn = button("Show in library", { class: "btn btn-small" });
  const openBtn = button("Open", { class: "btn btn-small", testid: "doc-open" });
  const folderBtn = button("Show in folder", { class: "btn btn-small", testid: "doc-folder" });
  const docView = h(
    "article",
    { class: "doc-view", attrs: { hidden: true, "aria-label": "Document" }, data: { testid: "doc-view" } },
    h(
      "div",
      { class: "doc-head" },
      h("div", { class: "doc-head-text" }, docTitle, docLoc),
      openBtn,
      folderBtn,
      revealBtn,
      closeDoc,
    ),
    docText,
  );
  const docEmpty = h(
    "div",
    { class: "doc-empty muted" },
    icon("search", "empty-icon"),
    h("p", { text: "Open a result to read it here, with the matching passage highlighted." }),
  );

  const el = h(
    "section",
    { class: "view search", attrs: { "aria-label": "Search" }, data: { testid: "search" } },
    h(
      "div",
      { class: "search-col" },
      h("div", { class: "search-box" }, icon("search", "icon search-icon"), input),
      notice,
      status,
      results,
    ),
    h("div", { class: "doc-col" }, docEmpty, docView),
  );

  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let hits: SearchHit[] = [];
  let openItemId: string | null = null;

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
    } else if (e.key === "Escape" && input.value) {
      e.preventDefault();
      input.value = "";
      void run();
    }
  });
  results.addEventListener("keydown", (e) => {
    const btns = Array.from(results.querySelectorAll<HTMLButtonElement>("button.hit"));
    const i = btns.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      btns[Math.min(btns.length - 1, i + 1)]?.focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (i === 0) input.focus();
      else btns[i - 1]?.focus();
    } else if (e.key === "Home") {
      e.preventDefault();
      btns[0]?.focus();
    } else if (e.key === "End") {
      e.preventDefault();
      btns[btns.length - 1]?.focus();
    }
  });
  closeDoc.addEventListener("click", () => {
    docView.hidden = true;
    docEmpty.hidden = false;
    openItemId = null;
    for (const b of results.querySelectorAll(".hit[aria-current]")) b.removeAttribute("aria-current");
  });
  revealBtn.addEventListener("click", () => {
    if (openItemId) ctx.actions.reveal(openItemId);
  });
  // The desktop's application: a PDF at the hit's page, a link in the browser.
  let openPage: number | null = null;
  const openOutside = async (reveal: boolean) => {
    if (!openItemId) return;
    try {
      await ctx.backend.openItem(openItemId, reveal ? null : openPage, reveal);
    } catch (e) {
      ctx.toast.show(`Could not open it: ${errorMessage(e)}`, { kind: "error" });
    }
  };
  openBtn.addEventListener("click", () => void openOutside(false));
  folderBtn.addEventListener("click", () => void openOutside(true));

  async function run() {
    const q = input.value.trim();
    const my = ++seq;
    if (!q) {
      hits = [];
      results.replaceChildren();
      results.dataset.query = "";
      notice.hidden = true;
      setText(status, "");
      return;
    }
    el.classList.add("loading");
    let res: SearchResponse;
    try {
      res = await ctx.backend.search(q, LIMIT);
    } catch (e) {
      if (my !== seq) return;
      el.classList.remove("loading");
      setText(status, `Search failed: ${errorMessage(e)}`);
      return;
    }
    if (my !== seq) return; // a newer query is on its way
    el.classList.remove("loading");
    hits = res.hits;
    notice.hidden = !res.notice;
    setText(noticeText, res.notice ?? "");
    buildBtn.hidden = !res.canBuildIndex;
    const modeLabel = res.mode === "keyword" ? "keyword" : res.mode === "semantic" ? "semantic" : "hybrid";
    setText(
      status,
      hits.length === 0
        ? `No results for “${q}”.`
        : `${hits.length === LIMIT ? `Top ${LIMIT}` : hits.length} result${hits.length === 1 ? "" : "s"} · ${modeLabel} search`,
    );
    results.replaceChildren(...hits.map(renderHit));
    results.dataset.query = q;
  }

  function renderHit(hit: SearchHit, i: number): HTMLLIElement {
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
      void open(hit);
    });
    return h("li", {}, b);
  }

  async function open(hit: SearchHit) {
    try {
      const v = await ctx.backend.openChunk(hit.chunkId);
      openItemId = v.itemId;
      openPage = hit.page ?? null;
      const link = v.itemId.startsWith("u");
      const atPage = hit.page != null && (hit.pageUnit ?? "page") === "page";
      setText(openBtn, link ? "Open in browser" : atPage ? `Open at page ${hit.page}` : "Open");
      folderBtn.hidden = link;
      setText(docTitle, v.name);
      setText(docLoc, hit.page != null ? `${v.location} · ${pageLabel(hit)}` : v.location);
      const [before, mid, after] = splitAround(v.text, v.start, v.end);
      // PDF pages are separated by form feeds: show each break as a page marker. The text
      // is a window around the passage, starting on page `firstPage`.
      let page = v.firstPage;
      // Only paged documents (PDF): a source file may hold a form feed of its own.
      const paged = (t: string): Node[] =>
        (hit.page != null ? t.split("\f") : [t]).flatMap((part, i) => {
          const nodes: Node[] = [];
          if (i > 0) {
            page += 1;
            nodes.push(
              h("span", { class: "page-break muted small", text: `page ${page}`, data: { testid: "doc-page" } }),
            );
          }
          nodes.push(document.createTextNode(part));
          return nodes;
        });
      const head = paged(before);
      const mark = h("mark", { class: "chunk", attrs: { tabindex: "-1" }, data: { testid: "doc-chunk" } });
      mark.append(...paged(mid));
      const cut = (where: string) =>
        h("p", { class: "doc-cut muted small", text: `… ${where} not shown here`, data: { testid: "doc-cut" } });
      docText.replaceChildren(
        ...(v.cutBefore ? [cut("earlier text")] : []),
        ...head,
        mark,
        ...paged(after),
        ...(v.cutAfter ? [cut("later text")] : []),
      );
      docEmpty.hidden = true;
      docView.hidden = false;
      mark.scrollIntoView({ block: "center" });
    } catch (e) {
      ctx.toast.show(`Could not open the document: ${errorMessage(e)}`, { kind: "error" });
    }
  }

  return {
    el,
    focus() {
      input.focus();
      input.select();
    },
  };
}

/** "p. 12" for a PDF's page, "slide 4", "sheet 2", "message 3" for the others. */
export function pageLabel(hit: SearchHit): string {
  const unit = hit.pageUnit ?? "page";
  return unit === "page" ? `p. ${hit.page}` : `${unit} ${hit.page}`;
}

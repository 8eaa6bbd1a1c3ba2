// The document reader beside Search's results and Ask's conversation: opens a passage
// (`open_chunk`), shows the document's text around it with the passage highlighted and
// scrolled to, PDF page breaks as markers, and offers opening the file (a PDF at the
// passage's page), its folder, or its row in the library.
import { errorMessage } from "../backend/types";
import { splitAround } from "../lib/snippet";
import type { Ctx } from "./context";
import { button, h, icon, setText } from "./dom";

/** What the reader opens: a search hit, an Ask passage. */
export interface PassageRef {
  chunkId: number;
  /** the page the passage is on (paged documents), 1-based */
  page: number | null;
  pageUnit: string | null;
}

export interface Reader {
  /** the column: a placeholder until something is opened, then the document */
  el: HTMLElement;
  /** resolves false when the passage could not be opened (a toast says why) */
  open(p: PassageRef): Promise<boolean>;
  close(): void;
  /** the passage open now (null: none) */
  readonly chunkId: number | null;
}

export interface ReaderOptions {
  /** prefix of the test ids: "doc" gives doc-view, doc-chunk, doc-open, doc-folder, doc-page, doc-cut */
  testid: string;
  /** the placeholder's sentence */
  empty: string;
  emptyIcon: string;
  /** after the reader was closed with its button */
  onClose?: () => void;
}

/** "p. 12" for a PDF's page, "slide 4", "sheet 2", "message 3" for the others. */
export function pageLabel(p: { page: number | null; pageUnit: string | null }): string {
  const unit = p.pageUnit ?? "page";
  return unit === "page" ? `p. ${p.page}` : `${unit} ${p.page}`;
}

export function createReader(ctx: Ctx, opts: ReaderOptions): Reader {
  const tid = (s: string) => `${opts.testid}-${s}`;
  const docTitle = h("h2", { class: "doc-title" });
  const docLoc = h("p", { class: "doc-loc muted small" });
  const docText = h("div", { class: "doc-text", attrs: { tabindex: "0", "aria-label": "Document text" } });
  const closeDoc = button("Close document", { icon: "close", iconOnly: true, class: "btn btn-icon btn-ghost" });
  const revealBtn = button("Show in library", { class: "btn btn-small" });
  const openBtn = button("Open", { class: "btn btn-small", testid: tid("open") });
  const folderBtn = button("Show in folder", { class: "btn btn-small", testid: tid("folder") });
  const docView = h(
    "article",
    { class: "doc-view", attrs: { hidden: true, "aria-label": "Document" }, data: { testid: tid("view") } },
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
    icon(opts.emptyIcon, "empty-icon"),
    h("p", { text: opts.empty }),
  );
  const el = h("div", { class: "doc-col" }, docEmpty, docView);

  let openItemId: string | null = null;
  let openChunkId: number | null = null;
  let openPage: number | null = null;

  function close() {
    docView.hidden = true;
    docEmpty.hidden = false;
    openItemId = null;
    openChunkId = null;
  }
  closeDoc.addEventListener("click", () => {
    close();
    opts.onClose?.();
  });
  revealBtn.addEventListener("click", () => {
    if (openItemId) ctx.actions.reveal(openItemId);
  });
  // The desktop's application: a PDF at the passage's page, a link in the browser.
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

  async function open(p: PassageRef): Promise<boolean> {
    try {
      const v = await ctx.backend.openChunk(p.chunkId);
      openItemId = v.itemId;
      openChunkId = p.chunkId;
      openPage = p.page ?? null;
      const link = v.itemId.startsWith("u");
      const atPage = p.page != null && (p.pageUnit ?? "page") === "page";
      setText(openBtn, link ? "Open in browser" : atPage ? `Open at page ${p.page}` : "Open");
      folderBtn.hidden = link;
      setText(docTitle, v.name);
      setText(docLoc, p.page != null ? `${v.location} · ${pageLabel(p)}` : v.location);
      const [before, mid, after] = splitAround(v.text, v.start, v.end);
      // PDF pages are separated by form feeds: show each break as a page marker. The text
      // is a window around the passage, starting on page `firstPage`.
      let page = v.firstPage;
      // Only paged documents (PDF): a source file may hold a form feed of its own.
      const paged = (t: string): Node[] =>
        (p.page != null ? t.split("\f") : [t]).flatMap((part, i) => {
          const nodes: Node[] = [];
          if (i > 0) {
            page += 1;
            nodes.push(
              h("span", { class: "page-break muted small", text: `page ${page}`, data: { testid: tid("page") } }),
            );
          }
          nodes.push(document.createTextNode(part));
          return nodes;
        });
      const head = paged(before);
      const mark = h("mark", { class: "chunk", attrs: { tabindex: "-1" }, data: { testid: tid("chunk") } });
      mark.append(...paged(mid));
      const cut = (where: string) =>
        h("p", { class: "doc-cut muted small", text: `… ${where} not shown here`, data: { testid: tid("cut") } });
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
      return true;
    } catch (e) {
      ctx.toast.show(`Could not open the document: ${errorMessage(e)}`, { kind: "error" });
      return false;
    }
  }

  return {
    el,
    open,
    close,
    get chunkId() {
      return openChunkId;
    },
  };
}

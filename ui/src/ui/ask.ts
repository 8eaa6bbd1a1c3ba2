// Ask view: a question in your own words, answered from the library's passages with
// citations. `ask` first sends the numbered passages (shown at once as the sources), then the
// answer's tokens (rendered as they come, citations [n] as buttons that open the passage in
// the reader beside it), then the outcome. Without an answer endpoint the best passages are
// the answer, with a way to set one; when nothing is close it says it does not know. A
// conversation: follow-ups carry the last answered turns (lib/ask.ts); New conversation
// forgets them.
import type { AskAnswer, AskEvent, AskPassage } from "../backend/types";
import { errorMessage } from "../backend/types";
import { type AskedTurn, citedIn, historyFor, splitAnswer } from "../lib/ask";
import type { Ctx } from "./context";
import { button, h, icon, setText } from "./dom";
import { createReader, pageLabel } from "./reader";

export interface AskView {
  el: HTMLElement;
  focus(): void;
}

/** The sentences the states are told by (tests look for them too). */
export const ASK_TEXT = {
  dontKnow: "I don't know — nothing in your library is close to this question.",
  topPassages: "Top passages for your question",
  sources: "Sources",
  nearest: "The nearest passages",
  settingsLink: "Set an answer endpoint in Settings",
  settingsWhich: " — Ollama, llama.cpp server, LM Studio or OpenAI — and answers are written from these passages.",
} as const;

/** One question of the conversation, as shown. */
interface Turn extends AskedTurn {
  el: HTMLLIElement;
  /** the passages it was given (numbered 1..n) */
  passages: AskPassage[];
  /** the answer's text so far (the final text once `done`) */
  text: string;
  done: boolean;
  /** the nodes shown for each part of the answer (splitAnswer), to paint only what changed */
  painted: Node[][];
}

const SR_LIST = new Intl.ListFormat("en", { type: "conjunction" });

export function createAsk(ctx: Ctx): AskView {
  const input = h("textarea", {
    class: "ask-input",
    attrs: {
      rows: 2,
      placeholder: "Ask a question about your library…",
      "aria-label": "Ask a question about your library",
      "aria-describedby": "ask-input-hint",
      spellcheck: "true",
    },
    data: { testid: "ask-input" },
  });
  const submit = button("Ask", { icon: "ask", class: "btn btn-primary ask-submit", testid: "ask-submit" });
  const hint = h("p", {
    class: "ask-input-hint muted small",
    attrs: { id: "ask-input-hint" },
    text: "Enter asks · Shift+Enter starts a new line · follow-up questions remember the last answers",
  });
  const form = h(
    "form",
    { class: "ask-form", data: { testid: "ask-form" } },
    h("div", { class: "ask-form-row" }, input, submit),
    hint,
  );
  submit.type = "submit";

  const newBtn = button("New conversation", { icon: "plus", class: "btn btn-small", testid: "ask-new" });
  newBtn.disabled = true;
  const empty = h(
    "div",
    { class: "ask-empty muted", data: { testid: "ask-empty" } },
    icon("ask", "empty-icon"),
    h("p", {
      text: "Ask in your own words. The answer is written from passages of your library, and each claim names the passage it comes from.",
    }),
  );
  const turnsEl = h("ol", {
    class: "ask-turns",
    attrs: { "aria-label": "Conversation" },
    data: { testid: "ask-turns" },
  });
  const log = h("div", { class: "ask-log" }, empty, turnsEl);
  // what happens, for screen readers (the answer itself is not read out token by token)
  const status = h("p", {
    class: "sr-only",
    attrs: { role: "status", "aria-live": "polite" },
    data: { testid: "ask-status" },
  });

  const reader = createReader(ctx, {
    testid: "ask-doc",
    empty: "Open a source or a citation to read it here, with the passage highlighted.",
    emptyIcon: "ask",
    onClose: () => markOpen(null),
  });
  const askCol = h(
    "div",
    { class: "ask-col" },
    h("div", { class: "ask-head" }, h("h2", { class: "ask-title", text: "Ask your library" }), newBtn),
    log,
    form,
    status,
  );
  const el = h(
    "section",
    { class: "view ask", attrs: { "aria-label": "Ask" }, data: { testid: "ask" } },
    askCol,
    reader.el,
  );

  const turns: Turn[] = [];
  /** bumped by New conversation: answers still coming for the old one are dropped */
  let generation = 0;
  let busy = false;

  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void ask();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void ask();
  });
  newBtn.addEventListener("click", () => {
    generation += 1;
    busy = false;
    submit.disabled = false;
    turns.length = 0;
    turnsEl.replaceChildren();
    empty.hidden = false;
    newBtn.disabled = true;
    reader.close();
    setText(status, "New conversation.");
    input.focus();
  });

  /** Keep following the answer while it grows, unless the reader scrolled up. */
  function follow(fn: () => void) {
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    fn();
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  /** The source of the passage open in the reader is marked current (in whichever turn lists it). */
  function markOpen(chunkId: number | null) {
    for (const b of turnsEl.querySelectorAll<HTMLElement>(".source-open")) {
      if (chunkId !== null && b.dataset.chunkId === String(chunkId)) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
  }

  async function openPassage(p: AskPassage) {
    if (await reader.open(p)) markOpen(p.chunkId);
  }

  async function openAtPage(p: AskPassage) {
    try {
      await ctx.backend.openItem(p.itemId, p.page, false);
    } catch (e) {
      ctx.toast.show(`Could not open it: ${errorMessage(e)}`, { kind: "error" });
    }
  }

  async function ask() {
    const question = input.value.trim();
    if (!question || busy) return;
    busy = true;
    submit.disabled = true;
    const gen = generation;
    const history = historyFor(turns);
    const turn = newTurn(question);
    turns.push(turn);
    input.value = "";
    empty.hidden = true;
    newBtn.disabled = false;
    turnsEl.append(turn.el);
    log.scrollTop = log.scrollHeight;
    setText(status, "Looking for passages…");

    let frame = 0;
    const paint = () => {
      frame = 0;
      if (gen === generation) follow(() => renderAnswer(turn));
    };
    const onEvent = (e: AskEvent) => {
      if (gen !== generation) return;
      if (e.type === "passages") {
        turn.passages = e.passages;
        follow(() => showPassages(turn, e.relevant, e.answering));
        setText(
          status,
          !e.relevant
            ? ASK_TEXT.dontKnow
            : e.answering
              ? `Found ${e.passages.length} passages; writing the answer…`
              : `${ASK_TEXT.topPassages}: ${e.passages.length}. No answer endpoint is set.`,
        );
      } else {
        turn.text += e.text;
        // tokens come faster than frames: paint once a frame
        if (!frame) frame = requestAnimationFrame(paint);
      }
    };

    let outcome: AskAnswer | null = null;
    let failure: string | null = null;
    try {
      outcome = await ctx.backend.ask(question, history, onEvent);
    } catch (e) {
      failure = errorMessage(e);
    }
    if (gen !== generation) return;
    if (frame) cancelAnimationFrame(frame);
    busy = false;
    submit.disabled = false;
    follow(() => finish(turn, outcome, failure));
  }

  // ------------------------------------------------------------------ rendering a turn

  function newTurn(question: string): Turn {
    const el = h(
      "li",
      { class: "turn", data: { testid: `ask-turn-${turns.length}`, state: "searching" } },
      h("h3", { class: "turn-question", text: question, data: { testid: "ask-question" } }),
      progress("Looking for passages…"),
    );
    return { question, answer: null, el, passages: [], text: "", done: false, painted: [] };
  }

  function progress(text: string): HTMLElement {
    return h(
      "p",
      { class: "turn-progress muted small", data: { testid: "ask-progress" } },
      h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }),
      h("span", { text }),
    );
  }

  const part = (t: Turn, cls: string) => t.el.querySelector<HTMLElement>(`:scope > .${cls}`);

  /** The passages are in: the sources (and what is coming). */
  function showPassages(t: Turn, relevant: boolean, answering: boolean) {
    part(t, "turn-progress")?.remove();
    if (!relevant) t.el.append(dontKnow());
    if (answering) {
      t.el.dataset.state = "writing";
      t.el.append(answerBlock(t, true), progress("Writing…"));
    } else t.el.dataset.state = "done";
    t.el.append(sources(t, relevant, answering ? "answering" : "no-endpoint"));
  }

  function dontKnow(): HTMLElement {
    return h("p", { class: "ask-dontknow", text: ASK_TEXT.dontKnow, data: { testid: "ask-dontknow" } });
  }

  function answerBlock(t: Turn, writing: boolean): HTMLElement {
    const el = h("div", {
      class: "ask-answer",
      attrs: { "aria-busy": writing ? "true" : null },
      data: { testid: "ask-answer", state: writing ? "writing" : "done" },
    });
    fillAnswer(el, t);
    return el;
  }

  /**
   * The answer so far: text, citations as buttons, a caret while it is being written. More
   * text only changes the last part (a "[1" becomes a citation once its "]" comes), so the
   * parts before it stay as they are — a citation can be clicked while the answer grows.
   * `all`: paint everything again (the final text, or other passages).
   */
  function fillAnswer(el: HTMLElement, t: Turn, all = false) {
    const parts = splitAnswer(t.text, t.passages.length);
    const keep = all ? 0 : Math.max(0, Math.min(t.painted.length - 1, parts.length));
    if (keep === 0) {
      el.replaceChildren();
      t.painted = [];
    } else {
      for (const nodes of t.painted.splice(keep)) for (const n of nodes) n.parentNode?.removeChild(n);
      el.querySelector(":scope > .ask-caret")?.remove();
    }
    for (const p of parts.slice(keep)) {
      const nodes = p.kind === "text" ? [document.createTextNode(p.text)] : citation(t, t.passages[p.n - 1]!);
      t.painted.push(nodes);
      el.append(...nodes);
    }
    if (!t.done) el.append(h("span", { class: "ask-caret", attrs: { "aria-hidden": "true" } }));
  }

  /** A citation's button; its brackets stay in the text (copied with it) but are not shown or read. */
  function citation(t: Turn, p: AskPassage): HTMLElement[] {
    const mark = (c: string) => h("span", { class: "cite-mark", text: c, attrs: { "aria-hidden": "true" } });
    return [mark("["), citeButton(t, p), mark("]")];
  }

  function citeButton(t: Turn, p: AskPassage): HTMLButtonElement {
    const where = p.page != null ? ` (${pageLabel(p)})` : "";
    const b = h("button", {
      class: "cite",
      text: String(p.n),
      attrs: { type: "button", "aria-label": `Source ${p.n}: ${p.name}`, title: `${p.name}${where}` },
      data: { testid: `ask-cite-${p.n}`, chunkId: String(p.chunkId) },
    });
    b.addEventListener("click", () => {
      part(t, "turn-sources")?.querySelector<HTMLElement>(`[data-n="${p.n}"]`)?.scrollIntoView({ block: "nearest" });
      void openPassage(p);
    });
    return b;
  }

  function renderAnswer(t: Turn) {
    const el = part(t, "ask-answer");
    if (!el) return;
    fillAnswer(el, t);
    markCited(t, citedIn(t.text, t.passages.length));
  }

  function markCited(t: Turn, cited: number[]) {
    for (const li of t.el.querySelectorAll<HTMLElement>(".source")) {
      const on = cited.includes(Number(li.dataset.n));
      li.dataset.cited = String(on);
      const badge = li.querySelector<HTMLElement>(".source-cited");
      if (badge) badge.hidden = !on;
    }
  }

  /** The numbered passages: the answer's sources, the best passages, or the nearest. */
  function sources(t: Turn, relevant: boolean, mode: "answering" | "no-endpoint" | "error"): HTMLElement {
    const id = `ask-sources-${generation}-${turns.indexOf(t)}`;
    const title = !relevant ? `${ASK_TEXT.nearest}:` : mode === "answering" ? ASK_TEXT.sources : ASK_TEXT.topPassages;
    const section = h(
      "section",
      { class: "turn-sources", attrs: { "aria-labelledby": id }, data: { testid: "ask-sources" } },
      h("h4", { class: "sources-title", attrs: { id }, text: title, data: { testid: "ask-sources-title" } }),
    );
    if (relevant && mode === "no-endpoint") section.append(settingsHint());
    if (t.passages.length === 0) return section;
    const list = h("ol", { class: `sources${relevant ? "" : " nearest"}` });
    for (const p of t.passages) list.append(source(p));
    section.append(list);
    return section;
  }

  function settingsHint(): HTMLElement {
    const link = button(ASK_TEXT.settingsLink, { icon: "gear", class: "btn btn-link", testid: "ask-settings" });
    link.addEventListener("click", () => ctx.actions.openSettings("chat-url"));
    return h("p", { class: "ask-hint", data: { testid: "ask-hint" } }, link, ASK_TEXT.settingsWhich);
  }

  function source(p: AskPassage): HTMLLIElement {
    const paged = p.page != null;
    const open = h(
      "button",
      {
        class: "source-open",
        attrs: { type: "button", title: "Read it beside the conversation" },
        data: { testid: `ask-source-${p.n}-open`, chunkId: String(p.chunkId) },
      },
      h(
        "span",
        { class: "source-head" },
        h("span", { class: "source-num", text: String(p.n) }),
        h("span", { class: "source-name", text: p.name }),
        h("span", { class: "source-cited", text: "cited", attrs: { hidden: true } }),
      ),
      h("span", { class: "source-text", text: p.text }),
      h("span", { class: "source-loc muted small", text: paged ? `${p.location} · ${pageLabel(p)}` : p.location }),
    );
    open.addEventListener("click", () => void openPassage(p));
    const li = h(
      "li",
      { class: "source", data: { testid: `ask-source-${p.n}`, n: String(p.n), cited: "false" } },
      open,
    );
    if (paged && (p.pageUnit ?? "page") === "page") {
      const at = button(`Open at page ${p.page}`, {
        icon: "file",
        class: "btn btn-small btn-ghost source-page",
        testid: `ask-source-${p.n}-page`,
      });
      at.setAttribute("aria-label", `Open at page ${p.page}: ${p.name}`);
      at.addEventListener("click", () => void openAtPage(p));
      li.classList.add("has-page");
      li.append(at);
    }
    return li;
  }

  /** The outcome: the final answer (or why there is none), cited sources marked. */
  function finish(t: Turn, a: AskAnswer | null, failure: string | null) {
    t.done = true;
    t.el.dataset.state = "done";
    part(t, "turn-progress")?.remove();
    // what was painted stays unless the outcome says otherwise (a citation may be under the pointer)
    const repaint =
      a !== null &&
      ((a.answer !== null && a.answer !== t.text) ||
        a.passages.map((p) => p.chunkId).join() !== t.passages.map((p) => p.chunkId).join());
    if (a !== null) {
      t.passages = a.passages;
      if (a.answer !== null) t.text = a.answer;
      t.answer = a.answer;
    }
    // the answer as it ends: the final text, or what came before it broke off
    let answerEl = part(t, "ask-answer");
    if (t.text !== "" && !answerEl) {
      answerEl = answerBlock(t, false);
      t.el.insertBefore(answerEl, part(t, "turn-sources"));
    }
    if (answerEl) {
      answerEl.removeAttribute("aria-busy");
      answerEl.dataset.state = a?.answer != null ? "done" : "cut";
      fillAnswer(answerEl, t, repaint);
      if (t.text === "") answerEl.remove();
    }
    if (a === null) {
      // refused (nothing was looked up), or it broke off: why, above what there is
      t.el.dataset.state = "error";
      t.el.insertBefore(errorLine(failure ?? "Something went wrong."), t.el.children[1] ?? null);
      setText(status, "");
      return;
    }
    // what the passages event said may have been missed (or differ): the outcome decides
    for (const x of t.el.querySelectorAll(":scope > .ask-dontknow, :scope > .turn-sources, :scope > .ask-alert"))
      x.remove();
    if (!a.relevant && a.answer === null) t.el.insertBefore(dontKnow(), part(t, "ask-answer"));
    if (a.error !== null) {
      t.el.dataset.state = "error";
      // above the answer's start (if any came) and the passages, which stay
      t.el.insertBefore(errorLine(a.error), part(t, "ask-answer") ?? null);
    }
    if (a.answer !== null && a.endpoint !== null) {
      t.el.append(
        h("p", {
          class: "ask-by muted small",
          text: `Written by ${a.model ?? "the model"} at ${a.endpoint} from the passages below.`,
          data: { testid: "ask-by" },
        }),
      );
    }
    const mode = a.error !== null ? "error" : a.endpoint === null ? "no-endpoint" : "answering";
    t.el.append(sources(t, a.relevant, a.answer !== null ? "answering" : mode));
    markCited(t, a.answer !== null ? a.cited : []);
    markOpen(reader.chunkId);
    setText(status, doneSentence(a));
  }

  function errorLine(message: string): HTMLElement {
    return h(
      "p",
      { class: "ask-alert", attrs: { role: "alert" }, data: { testid: "ask-error" } },
      icon("alert", "icon"),
      h("span", { text: `No answer: ${message}` }),
    );
  }

  function doneSentence(a: AskAnswer): string {
    if (a.error !== null) return "";
    if (a.answer !== null) {
      const cited = a.cited.map(String);
      return cited.length
        ? `Answer written, citing ${cited.length === 1 ? "source" : "sources"} ${SR_LIST.format(cited)}.`
        : "Answer written; it cites no source.";
    }
    return a.relevant ? `${ASK_TEXT.topPassages}: ${a.passages.length}.` : ASK_TEXT.dontKnow;
  }

  return {
    el,
    focus() {
      input.focus();
    },
  };
}

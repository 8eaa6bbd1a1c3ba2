// The Settings dialog: every setting the engine describes (generated list), saved in the
// database on change, so the command line (`trove config`) sees the same values. A value
// an environment variable overrides is shown with that variable; settings that apply when
// Trove next starts say so.
import type { Coverage, SettingsView, SettingView } from "../backend/types";
import { errorMessage } from "../backend/types";
import type { Ctx } from "./context";
import { button, h, setText } from "./dom";

const LABELS: Record<string, string> = {
  concurrency: "Parallel jobs",
  "link-refresh-hours": "Refresh links every (hours)",
  "rate-limit": "Requests per second to one site",
  "fetch-timeout": "Page fetch timeout (seconds)",
  robots: "Follow robots.txt",
  ocr: "Read scans and images (OCR)",
  "ocr-languages": "OCR languages",
  "ocr-budget": "OCR time per document (seconds)",
  "pdf-viewer": "PDF viewer",
  "folder-sync": "Keep folders I add in sync",
  "keep-missing": "Keep the items of deleted files",
  embedder: "Embeddings (search by meaning)",
  "embed-model": "Embedding model of the API",
  "embed-key": "API key",
  "embed-rpm": "API requests per minute",
  "embed-tpm": "API tokens per minute",
  "chat-url": "Answer endpoint (Ask)",
  "chat-model": "Answer model",
  "chat-key": "Answer endpoint's API key",
};

/** settings that only matter with an embeddings API (hidden while the local model is used) */
const API_ONLY = new Set(["embed-model", "embed-key", "embed-rpm", "embed-tpm"]);
/** settings that only matter with an answer endpoint (hidden while chat-url is empty) */
const CHAT_ONLY = new Set(["chat-model", "chat-key"]);

const count = (n: number) => n.toLocaleString("en-US");

/** "3,200 of 4,000 passages can be found by meaning (local:all-MiniLM-L6-v2)" */
export function coverageText(c: Coverage | null): string {
  if (c === null) return "Search by meaning is off: no embedding model is available. Keyword search works.";
  if (c.total === 0) return `Nothing to index yet (${c.model}).`;
  if (c.embedded >= c.total) return `All ${count(c.total)} passages can be found by meaning (${c.model}).`;
  return `${count(c.embedded)} of ${count(c.total)} passages can be found by meaning (${c.model}).`;
}

export function createSettingsDialog(ctx: Ctx) {
  const list = h("div", { class: "settings-list", data: { testid: "settings-list" } });
  const dbPath = h("code", { class: "settings-db", data: { testid: "settings-db" } });
  const openFolder = button("Open folder", { icon: "folder", class: "btn btn-small", testid: "settings-open-folder" });
  const logPath = h("code", { class: "settings-db", data: { testid: "settings-logs" } });
  const openLogs = button("Open logs", { icon: "folder", class: "btn btn-small", testid: "settings-open-logs" });
  const logRow = h(
    "div",
    { class: "settings-data" },
    h("span", { class: "muted small", text: "Logs: " }),
    logPath,
    openLogs,
  );
  // The semantic index of the embedder in use: how much has vectors, and a build with progress.
  const semText = h("span", { data: { testid: "settings-semantic" } });
  const semProgress = h("progress", {
    attrs: { max: 1, value: 0, hidden: true },
    data: { testid: "settings-semantic-progress" },
  });
  const semBuild = button("Build semantic index", { class: "btn btn-small", testid: "settings-build-index" });
  const semRow = h(
    "div",
    { class: "settings-data", attrs: { role: "status", "aria-live": "polite" } },
    semText,
    semProgress,
    semBuild,
  );
  const showCoverage = (c: Coverage | null) => {
    setText(semText, coverageText(c));
    semBuild.hidden = c === null || c.embedded >= c.total;
    if (c !== null && c.total > 0) {
      semProgress.max = c.total;
      semProgress.value = c.embedded;
    }
  };
  semBuild.addEventListener("click", async () => {
    semBuild.disabled = true;
    semProgress.hidden = false;
    const poll = setInterval(async () => {
      try {
        showCoverage(await ctx.backend.semanticCoverage());
      } catch {
        // the build's own result reports failures
      }
    }, 400);
    try {
      const n = await ctx.backend.buildSemanticIndex();
      ctx.toast.show(`Semantic index built (${count(n)} passages embedded).`);
    } catch (e) {
      ctx.toast.show(`Could not build the semantic index: ${errorMessage(e)}`, { kind: "error" });
    } finally {
      clearInterval(poll);
      semBuild.disabled = false;
      semProgress.hidden = true;
      showCoverage(await ctx.backend.semanticCoverage().catch(() => null));
    }
  });
  const close = button("Close", { testid: "settings-close" });
  const dialog = h(
    "dialog",
    {
      class: "dialog dialog-wide",
      attrs: { "aria-labelledby": "settings-title" },
      data: { testid: "settings-dialog" },
    },
    h(
      "div",
      { class: "dialog-body" },
      h("h2", { attrs: { id: "settings-title" }, text: "Settings" }),
      list,
      semRow,
      h("div", { class: "settings-data" }, h("span", { class: "muted small", text: "Library: " }), dbPath, openFolder),
      logRow,
      h("div", { class: "dialog-actions" }, h("span", { class: "grow" }), close),
    ),
  );
  close.addEventListener("click", () => dialog.close());
  openLogs.addEventListener("click", async () => {
    try {
      await ctx.backend.openLogFolder();
    } catch (e) {
      ctx.toast.show(`Could not open the logs: ${errorMessage(e)}`, { kind: "error" });
    }
  });
  openFolder.addEventListener("click", async () => {
    try {
      await ctx.backend.openDataFolder();
    } catch (e) {
      ctx.toast.show(`Could not open the folder: ${errorMessage(e)}`, { kind: "error" });
    }
  });

  function row(s: SettingView): HTMLElement {
    const id = `setting-${s.name}`;
    const label = LABELS[s.name] ?? s.name;
    const error = h("p", { class: "setting-error small", attrs: { role: "alert", hidden: true } });
    const notes: string[] = [];
    if (s.source === "env" && s.env) {
      notes.push(`Set by ${s.env}${s.stored !== null ? ` (saved: ${s.stored})` : ""}; unset it to use this screen.`);
    }
    if (!s.live) notes.push("Applies the next time Trove starts.");
    // A program to run is chosen in a terminal only (the window cannot set one and run it).
    const fromTerminal = s.kind === "command";
    if (fromTerminal) notes.push(`Change it in a terminal: trove config set ${s.name} "…"`);
    let input: HTMLInputElement;
    const secret = s.kind === "secret";
    if (s.kind === "switch") {
      input = h("input", { attrs: { type: "checkbox", id, checked: s.value === "on" } });
    } else if (secret) {
      // never filled in: the engine only says whether a key is saved
      input = h("input", {
        class: "input",
        attrs: {
          id,
          type: "password",
          autocomplete: "off",
          spellcheck: "false",
          placeholder: s.stored !== null || s.source === "env" ? "saved (type a new one to replace it)" : "none",
        },
      });
    } else {
      const numeric = s.kind === "int" || s.kind === "number";
      input = h("input", {
        class: "input",
        attrs: {
          id,
          type: numeric ? "number" : "text",
          min: s.min ?? undefined,
          max: s.max ?? undefined,
          step: s.kind === "int" ? 1 : numeric ? "any" : undefined,
          spellcheck: "false",
          autocomplete: "off",
          placeholder: s.kind === "service" ? "local, or https://…/v1" : undefined,
        },
      });
      input.value = s.value;
    }
    input.dataset.testid = id;
    input.disabled = s.source === "env" || fromTerminal;
    const save = async (value: string | null) => {
      try {
        render(await ctx.backend.setSetting(s.name, value));
        ctx.toast.show(`${label}: saved`);
      } catch (e) {
        error.hidden = false;
        setText(error, errorMessage(e));
        input.setAttribute("aria-invalid", "true");
      }
    };
    if (s.kind === "switch") {
      input.addEventListener("change", () => void save(input.checked ? "on" : "off"));
    } else {
      // Enter saves; so does leaving the field — but not again what Enter just saved (the
      // field, taken out by the re-render, can still report a change: a second save's late
      // re-render would wipe what was typed in another field meanwhile, and its error).
      let entered: string | null = null;
      // a key's empty field means "keep the saved key" (Remove forgets it)
      const submit = () => {
        if (!(secret && input.value.trim() === "")) void save(input.value);
      };
      input.addEventListener("change", () => {
        if (input.value !== entered) submit();
      });
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          entered = input.value;
          submit();
        }
      });
    }
    const reset = button(secret ? "Remove" : "Default", { class: "btn btn-small btn-ghost", testid: `${id}-reset` });
    reset.hidden = s.stored === null || s.source === "env" || fromTerminal;
    reset.title = secret ? "Forget the saved key" : `Back to ${s.default}`;
    reset.addEventListener("click", () => void save(null));
    return h(
      "div",
      { class: "setting", data: { testid: `${id}-row`, source: s.source } },
      h("label", { attrs: { for: id }, class: "setting-label", text: label }),
      h("div", { class: "setting-control" }, input, reset),
      h("p", { class: "muted small setting-about", text: [s.about, ...notes].join(" · ") }),
      error,
    );
  }

  function render(v: SettingsView) {
    const local = v.settings.find((s) => s.name === "embedder")?.value === "local";
    const noChat = v.settings.find((s) => s.name === "chat-url")?.value.trim() === "";
    list.replaceChildren(
      ...v.settings.map((s) => {
        const r = row(s);
        r.hidden = (local && API_ONLY.has(s.name)) || (noChat && CHAT_ONLY.has(s.name));
        return r;
      }),
    );
    showCoverage(v.semantic);
    setText(dbPath, v.database);
    logRow.hidden = v.logs === null;
    setText(logPath, v.logs ?? "");
  }

  return {
    el: dialog,
    /** `focus`: a setting's name, whose control gets the focus (e.g. from Ask's "Set an answer endpoint") */
    async open(focus?: string) {
      try {
        render(await ctx.backend.getSettings());
        if (!dialog.open) dialog.showModal();
        const control = focus ? list.querySelector<HTMLElement>(`#setting-${CSS.escape(focus)}`) : null;
        if (control && !control.closest<HTMLElement>(".setting")?.hidden) {
          control.focus();
          control.scrollIntoView({ block: "nearest" });
        }
      } catch (e) {
        ctx.toast.show(`Could not read the settings: ${errorMessage(e)}`, { kind: "error" });
      }
    },
  };
}

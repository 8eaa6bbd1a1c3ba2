// The Folders dialog: the watched folders (kept in sync with the files on disk), what each
// holds and left out, its state and last scan, and per folder Rescan, Edit rules (its
// include/exclude globs, edited in place), Pause/Resume and Remove (confirmed in place,
// optionally keeping its items). "Add folder…" is the app's add-folder flow (the native
// dialog; Rust watches what is picked while "Keep folders I add in sync", the folder-sync
// setting, is on).
import type { Folder, SettingsView } from "../backend/types";
import { errorMessage } from "../backend/types";
import {
  absoluteTime,
  folderStateLabel,
  parseGlobList,
  plural,
  relativeTime,
  scanSummary,
  skippedSummary,
} from "../lib/format";
import type { Ctx } from "./context";
import { button, h, setText } from "./dom";
import { keysFor } from "./shortcuts";

export const FOLDERS_EMPTY = "No watched folders. Add a folder to keep its files in sync with the library.";

/** What the dialog says the folders' sync does (the keep-missing setting changes the last part). */
export function foldersAbout(keepMissing: boolean): string {
  return (
    "Trove keeps these folders in sync with the library: new and changed files are added, " +
    (keepMissing
      ? "and the items of deleted files are kept, marked missing. "
      : "and the items of deleted files are removed. ") +
    "Hidden and .gitignored files are left out."
  );
}

export interface FoldersDialog {
  el: HTMLDialogElement;
  open(): Promise<void>;
  /** reload the list if the dialog is open (e.g. after a drop added a folder) */
  refresh(): void;
}

export function createFoldersDialog(ctx: Ctx): FoldersDialog {
  const list = h("ul", { class: "folders-list", data: { testid: "folders-list" } });
  const empty = h("p", { class: "folders-empty muted", data: { testid: "folders-empty" }, text: FOLDERS_EMPTY });
  // what the last action did, inside the dialog (the toasts behind a modal dialog are inert)
  const status = h("p", {
    class: "muted small folders-status",
    attrs: { role: "status" },
    data: { testid: "folders-status" },
  });
  const add = button("Add folder…", {
    icon: "folder",
    class: "btn btn-primary",
    testid: "folders-add",
    title: `Add a folder to watch (${keysFor("addFolder")})`,
  });
  const close = button("Close", { testid: "folders-close" });
  // "Keep folders I add in sync": the folder-sync setting (what Add folder… and a drop do)
  const sync = h("input", {
    attrs: { type: "checkbox", id: "folders-sync", checked: true, "aria-describedby": "folders-sync-hint" },
    data: { testid: "folders-sync" },
  });
  const syncRow = h(
    "div",
    { class: "folders-sync", attrs: { hidden: true }, data: { testid: "folders-sync-row" } },
    h("label", { class: "check", attrs: { for: "folders-sync" } }, sync, "Keep folders I add in sync"),
    h("p", {
      class: "muted small",
      attrs: { id: "folders-sync-hint" },
      text: "Folders you add or drop on the window are watched for changes; off, their files are added once.",
    }),
  );
  const about = h("p", { class: "muted small", attrs: { id: "folders-about" }, text: foldersAbout(false) });
  const dialog = h(
    "dialog",
    {
      class: "dialog dialog-wide",
      attrs: { "aria-labelledby": "folders-title", "aria-describedby": "folders-about" },
      data: { testid: "folders-dialog" },
    },
    h(
      "div",
      { class: "dialog-body" },
      h("h2", { attrs: { id: "folders-title" }, text: "Watched folders" }),
      about,
      empty,
      list,
      status,
      syncRow,
      h("div", { class: "dialog-actions" }, add, h("span", { class: "grow" }), close),
    ),
  );
  close.addEventListener("click", () => dialog.close());

  let folders: Folder[] = [];
  /** the folder whose Remove is being confirmed, and the confirm step's checkbox */
  let confirming: number | null = null;
  let keepItems = false;
  /** the folder whose rules are being edited, what is typed, and why saving failed */
  let editing: number | null = null;
  let draft = { include: "", exclude: "" };
  let rulesError: string | null = null;
  /** the control to focus after the next render (by its test id) */
  let focusNext: string | null = null;
  /** folders with a command in flight (their buttons are aria-disabled, keeping focus) */
  const busy = new Set<number>();
  let loads = 0;

  const say = (text: string) => setText(status, text);
  const notify = (text: string, kind: "info" | "error" = "info") => {
    say(text);
    ctx.toast.show(text, { kind });
  };

  async function load(): Promise<void> {
    const mine = ++loads;
    try {
      const all = await ctx.backend.listFolders();
      if (mine !== loads) return; // a newer load answers
      folders = all;
      if (confirming !== null && !folders.some((f) => f.id === confirming)) confirming = null;
      if (editing !== null && !folders.some((f) => f.id === editing)) editing = null;
      render();
    } catch (e) {
      if (mine === loads) say(`Could not read the watched folders: ${errorMessage(e)}`);
      throw e;
    }
  }

  /** Re-render, keeping keyboard focus on the same control (by its test id) when it is still there. */
  function render() {
    const active = document.activeElement;
    const had = active instanceof HTMLElement && dialog.contains(active) ? active.dataset.testid : undefined;
    empty.hidden = folders.length > 0;
    list.hidden = folders.length === 0;
    list.replaceChildren(...folders.map(row));
    const want = focusNext ?? (had && !dialog.contains(document.activeElement) ? had : null);
    focusNext = null;
    if (want) {
      const el = dialog.querySelector<HTMLElement>(`[data-testid="${want}"]`) ?? add;
      el.focus();
      // a re-created text field: the caret at the end of what was typed
      if (el instanceof HTMLTextAreaElement) el.setSelectionRange(el.value.length, el.value.length);
    }
  }

  /** Show the folder-sync setting (hidden when the engine has none) and what keep-missing does. */
  function showSettings(v: SettingsView) {
    const s = v.settings.find((x) => x.name === "folder-sync");
    syncRow.hidden = !s;
    if (s) {
      sync.checked = s.value === "on";
      sync.disabled = s.source === "env";
    }
    setText(about, foldersAbout(v.settings.find((x) => x.name === "keep-missing")?.value === "on"));
  }

  async function loadSettings(): Promise<void> {
    try {
      showSettings(await ctx.backend.getSettings());
    } catch {
      syncRow.hidden = true; // the folders still work; the Settings dialog reports the error
    }
  }

  sync.addEventListener("change", async () => {
    const on = sync.checked;
    try {
      showSettings(await ctx.backend.setSetting("folder-sync", on ? "on" : "off"));
      say(
        on
          ? "Folders you add from now on are watched and kept in sync."
          : "Folders you add from now on have their files added once; they are not watched.",
      );
    } catch (e) {
      sync.checked = !on;
      notify(`Could not save the setting: ${errorMessage(e)}`, "error");
    }
  });

  /** Run a folder command once at a time; errors become an error toast and status line. */
  async function act(id: number, what: string, fn: () => Promise<void>) {
    if (busy.has(id)) return;
    busy.add(id);
    render();
    try {
      await fn();
    } catch (e) {
      notify(`Could not ${what}: ${errorMessage(e)}`, "error");
    } finally {
      busy.delete(id);
      await load().catch(() => undefined);
    }
  }

  function row(f: Folder): HTMLElement {
    const t = (part: string) => `folder-${f.id}-${part}`;
    const st = folderStateLabel(f);
    const skipped = skippedSummary(f.skipped);
    const rules: string[] = [];
    if (f.include.length) rules.push(`Only: ${f.include.join(", ")}`);
    if (f.exclude.length) rules.push(`Leaving out: ${f.exclude.join(", ")}`);
    const scanned = f.lastScan
      ? h("time", {
          attrs: { datetime: f.lastScan, title: absoluteTime(f.lastScan) },
          text: `last scan ${relativeTime(f.lastScan)}`,
        })
      : h("span", { text: "not scanned yet" });
    scanned.dataset.testid = t("scan");

    const isBusy = busy.has(f.id);
    const ctl = (b: HTMLButtonElement, label: string) => {
      b.setAttribute("aria-label", `${label} ${f.path}`);
      if (isBusy) b.setAttribute("aria-disabled", "true");
      return b;
    };
    const rescan = ctl(button("Rescan", { icon: "retry", class: "btn btn-small", testid: t("rescan") }), "Rescan");
    const editId = `folder-${f.id}-rules-editor`;
    const edit = ctl(
      button("Edit rules", { icon: "filter", class: "btn btn-small", testid: t("edit-rules") }),
      "Edit rules of",
    );
    edit.setAttribute("aria-expanded", String(editing === f.id));
    edit.setAttribute("aria-controls", editId);
    const pause = ctl(
      button(f.watching ? "Pause" : "Resume", {
        icon: f.watching ? "pause" : "play",
        class: "btn btn-small",
        testid: t("pause"),
      }),
      f.watching ? "Pause" : "Resume",
    );
    const remove = ctl(
      button("Remove", { icon: "trash", class: "btn btn-small btn-danger", testid: t("remove") }),
      "Remove",
    );
    const confirmId = `folder-${f.id}-confirm`;
    remove.setAttribute("aria-expanded", String(confirming === f.id));
    remove.setAttribute("aria-controls", confirmId);

    rescan.addEventListener("click", () =>
      act(f.id, "rescan the folder", async () => {
        const r = await ctx.backend.rescanFolder(f.id);
        notify(
          r.unavailable ? `${f.path} is not there: nothing was changed.` : `Rescanned ${f.path}: ${scanSummary(r)}.`,
          r.unavailable ? "error" : "info",
        );
      }),
    );
    pause.addEventListener("click", () =>
      act(f.id, f.watching ? "pause the folder" : "resume the folder", async () => {
        const next = await ctx.backend.setFolderWatching(f.id, !f.watching);
        folders = folders.map((x) => (x.id === next.id ? next : x));
        say(
          next.watching
            ? `Watching ${next.path} again.`
            : `Paused ${next.path}: its changes are not followed until you resume it.`,
        );
      }),
    );
    edit.addEventListener("click", () => {
      if (busy.has(f.id)) return;
      if (editing === f.id) {
        closeEditor(f.id);
        return;
      }
      editing = f.id;
      draft = { include: f.include.join(", "), exclude: f.exclude.join(", ") };
      rulesError = null;
      confirming = null;
      focusNext = t("include");
      render();
    });
    remove.addEventListener("click", () => {
      if (busy.has(f.id)) return;
      confirming = confirming === f.id ? null : f.id;
      keepItems = false;
      if (confirming === f.id) editing = null;
      render();
      if (confirming === f.id) dialog.querySelector<HTMLElement>(`[data-testid="${t("keep")}"]`)?.focus();
    });

    const li = h(
      "li",
      { class: "folder", data: { testid: t("row"), state: st.key } },
      h(
        "div",
        { class: "folder-head" },
        h("span", { class: "folder-path", attrs: { title: f.path }, text: f.path }),
        h("span", { class: "folder-state", data: { testid: t("state"), state: st.key }, text: st.text }),
      ),
      h(
        "p",
        { class: "folder-facts muted small" },
        h("span", { data: { testid: t("files") }, text: plural(f.files, "file") }),
        " · ",
        scanned,
      ),
      skipped ? h("p", { class: "muted small", data: { testid: t("skipped") }, text: skipped }) : null,
      rules.length ? h("p", { class: "muted small", data: { testid: t("rules") }, text: rules.join(" · ") }) : null,
      f.message ? h("p", { class: "folder-message small", data: { testid: t("message") }, text: f.message }) : null,
      h("div", { class: "folder-actions" }, rescan, edit, pause, remove),
    );
    if (editing === f.id) li.append(rulesEditor(f, editId));
    if (confirming === f.id) li.append(confirmStep(f, confirmId));
    return li;
  }

  function closeEditor(id: number) {
    editing = null;
    rulesError = null;
    focusNext = `folder-${id}-edit-rules`;
    render();
  }

  /** The folder's include/exclude globs, edited inside its row; Save rescans it with them. */
  function rulesEditor(f: Folder, id: string): HTMLElement {
    const t = (part: string) => `folder-${f.id}-${part}`;
    const field = (which: "include" | "exclude", placeholder: string) => {
      const el = h("textarea", {
        class: "folder-rules-input",
        attrs: {
          id: `${id}-${which}`,
          rows: 2,
          spellcheck: "false",
          autocomplete: "off",
          placeholder,
          "aria-describedby": `${id}-hint${rulesError ? ` ${id}-error` : ""}`,
          "aria-invalid": rulesError ? "true" : null,
        },
        data: { testid: t(which) },
      });
      el.value = draft[which];
      el.addEventListener("input", () => {
        draft[which] = el.value;
      });
      return el;
    };
    const include = field("include", "every file (e.g. *.md, *.pdf)");
    const exclude = field("exclude", "nothing (e.g. drafts/**, *.tmp)");
    const save = button("Save", { icon: "check", class: "btn btn-small btn-primary", testid: t("save-rules") });
    save.type = "submit";
    save.setAttribute("aria-label", `Save the rules of ${f.path}`);
    if (busy.has(f.id)) save.setAttribute("aria-disabled", "true");
    const cancel = button("Cancel", { class: "btn btn-small", testid: t("cancel-rules") });
    cancel.addEventListener("click", () => closeEditor(f.id));
    const form = h(
      "form",
      {
        class: "folder-rules",
        attrs: { id, "aria-labelledby": `${id}-title` },
        data: { testid: t("rules-editor") },
      },
      h("p", { class: "folder-confirm-title", attrs: { id: `${id}-title` }, text: `Rules for ${f.path}` }),
      h("label", { attrs: { for: `${id}-include` }, text: "Only files matching" }),
      include,
      h("label", { attrs: { for: `${id}-exclude` }, text: "Leave out" }),
      exclude,
      h("p", {
        class: "muted small",
        attrs: { id: `${id}-hint` },
        text: "Patterns like *.md or drafts/**, separated by commas or new lines. Enter saves; Esc cancels.",
      }),
      rulesError
        ? h("p", {
            class: "folder-rules-error small",
            attrs: { id: `${id}-error`, role: "alert" },
            data: { testid: t("rules-error") },
            text: rulesError,
          })
        : null,
      h("div", { class: "folder-actions" }, save, cancel),
    );
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        // cancels the edit, not the dialog
        e.preventDefault();
        e.stopPropagation();
        closeEditor(f.id);
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.target instanceof HTMLTextAreaElement) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const inc = parseGlobList(draft.include);
      const exc = parseGlobList(draft.exclude);
      void act(f.id, "save the rules", async () => {
        try {
          const next = await ctx.backend.setFolderRules(f.id, inc, exc);
          folders = folders.map((x) => (x.id === next.id ? next : x));
          editing = null;
          rulesError = null;
          focusNext = t("edit-rules");
          render();
          notify(`Saved the rules of ${next.path}: ${plural(next.files, "file")} in the library.`);
        } catch (err) {
          rulesError = `Could not save the rules: ${errorMessage(err)}`;
        }
      });
    });
    return form;
  }

  /** "Stop watching …?" with "Keep its items in the library", inside the row. */
  function confirmStep(f: Folder, id: string): HTMLElement {
    const t = (part: string) => `folder-${f.id}-${part}`;
    const keep = h("input", {
      attrs: { type: "checkbox", id: `${id}-keep`, checked: keepItems },
      data: { testid: t("keep") },
    });
    const effect = h("p", { class: "small", data: { testid: t("confirm-effect") } });
    const explain = () =>
      setText(
        effect,
        keepItems
          ? `Its ${plural(f.files, "item")} stay in the library; changes on disk are no longer followed.`
          : `Its ${plural(f.files, "item")} are removed from the library. The files on disk are not touched.`,
      );
    explain();
    keep.addEventListener("change", () => {
      keepItems = keep.checked;
      explain();
    });
    const yes = button("Stop watching", {
      icon: "trash",
      class: "btn btn-small btn-danger",
      testid: t("confirm-remove"),
    });
    const no = button("Cancel", { class: "btn btn-small", testid: t("cancel-remove") });
    yes.addEventListener("click", () =>
      act(f.id, "remove the folder", async () => {
        const keepIt = keepItems;
        await ctx.backend.removeFolder(f.id, keepIt);
        confirming = null;
        notify(
          keepIt
            ? `Stopped watching ${f.path}; its items stay in the library.`
            : `Stopped watching ${f.path} and removed its ${plural(f.files, "item")}.`,
        );
      }),
    );
    no.addEventListener("click", () => {
      confirming = null;
      render();
      dialog.querySelector<HTMLElement>(`[data-testid="${t("remove")}"]`)?.focus();
    });
    return h(
      "div",
      {
        class: "folder-confirm",
        attrs: { id, role: "group", "aria-labelledby": `${id}-title` },
        data: { testid: t("confirm") },
      },
      h("p", { class: "folder-confirm-title", attrs: { id: `${id}-title` }, text: `Stop watching ${f.path}?` }),
      h("label", { class: "check", attrs: { for: `${id}-keep` } }, keep, "Keep its items in the library"),
      effect,
      h("div", { class: "folder-actions" }, yes, no),
    );
  }

  let adding = false;
  add.addEventListener("click", async () => {
    if (adding) return;
    adding = true;
    add.setAttribute("aria-disabled", "true");
    const before = new Set(folders.map((f) => f.id));
    try {
      await ctx.actions.addFolder();
      await load();
      const fresh = folders.filter((f) => !before.has(f.id));
      if (fresh.length) say(`Now watching ${fresh.map((f) => f.path).join(", ")}.`);
    } catch {
      // the add flow reports its own errors
    } finally {
      adding = false;
      add.removeAttribute("aria-disabled");
    }
  });

  return {
    el: dialog,
    async open() {
      confirming = null;
      keepItems = false;
      editing = null;
      rulesError = null;
      say("");
      try {
        await Promise.all([load(), loadSettings()]);
        if (!dialog.open) dialog.showModal();
      } catch (e) {
        ctx.toast.show(`Could not read the watched folders: ${errorMessage(e)}`, { kind: "error" });
      }
    },
    refresh() {
      if (dialog.open) {
        load().catch(() => undefined);
        void loadSettings();
      }
    },
  };
}

// The Folders dialog: the watched folders (kept in sync with the files on disk), what each
// holds and left out, its state and last scan, and per folder Rescan, Pause/Resume and
// Remove (confirmed in place, optionally keeping its items). "Add folder…" is the app's
// add-folder flow (the native dialog; Rust watches what is picked).
import type { Folder } from "../backend/types";
import { errorMessage } from "../backend/types";
import { absoluteTime, folderStateLabel, plural, relativeTime, scanSummary, skippedSummary } from "../lib/format";
import type { Ctx } from "./context";
import { button, h, setText } from "./dom";
import { keysFor } from "./shortcuts";

export const FOLDERS_EMPTY = "No watched folders. Add a folder to keep its files in sync with the library.";

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
      h("p", {
        class: "muted small",
        attrs: { id: "folders-about" },
        text:
          "Trove keeps these folders in sync with the library: new and changed files are added, " +
          "and the items of deleted files are removed. Hidden and .gitignored files are left out.",
      }),
      empty,
      list,
      status,
      h("div", { class: "dialog-actions" }, add, h("span", { class: "grow" }), close),
    ),
  );
  close.addEventListener("click", () => dialog.close());

  let folders: Folder[] = [];
  /** the folder whose Remove is being confirmed, and the confirm step's checkbox */
  let confirming: number | null = null;
  let keepItems = false;
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
    if (had && !dialog.contains(document.activeElement)) {
      const again = dialog.querySelector<HTMLElement>(`[data-testid="${had}"]`);
      (again ?? add).focus();
    }
  }

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
    remove.addEventListener("click", () => {
      if (busy.has(f.id)) return;
      confirming = confirming === f.id ? null : f.id;
      keepItems = false;
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
      h("div", { class: "folder-actions" }, rescan, pause, remove),
    );
    if (confirming === f.id) li.append(confirmStep(f, confirmId));
    return li;
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
      say("");
      try {
        await load();
        if (!dialog.open) dialog.showModal();
      } catch (e) {
        ctx.toast.show(`Could not read the watched folders: ${errorMessage(e)}`, { kind: "error" });
      }
    },
    refresh() {
      if (dialog.open) load().catch(() => undefined);
    },
  };
}

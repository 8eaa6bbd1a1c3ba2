// Modal dialogs built on <dialog> (native focus trap, Esc to close).
import type { AddReport, Item } from "../backend/types";
import { errorMessage } from "../backend/types";
import { absoluteTime, badgeText, humanSize, kindLabel, missingText, parseUrlList, plural } from "../lib/format";
import type { Ctx } from "./context";
import { button, h, setText } from "./dom";

export function createUrlDialog(ctx: Ctx, onAdded: (r: AddReport) => void) {
  const textarea = h("textarea", {
    class: "url-input",
    attrs: {
      rows: 7,
      id: "url-input",
      spellcheck: "false",
      autocomplete: "off",
      placeholder: "https://example.com/article\nhttps://en.wikipedia.org/wiki/Local-first_software",
      "aria-describedby": "url-hint",
    },
    data: { testid: "url-input" },
  });
  const hint = h("p", {
    class: "muted small",
    attrs: { id: "url-hint" },
    text: "One per line, or separated by spaces. Pages are fetched and indexed in the background.",
  });
  const countEl = h("span", { class: "muted small", attrs: { "aria-live": "polite" } });
  const skippedBox = h("div", {
    class: "skipped",
    attrs: { hidden: true, role: "alert" },
    data: { testid: "url-skipped" },
  });
  const submit = button("Add", { class: "btn btn-primary", testid: "url-submit" });
  submit.type = "submit";
  const cancel = button("Cancel", { testid: "url-cancel" });
  const form = h(
    "form",
    { class: "dialog-body", attrs: { method: "dialog" } },
    h("h2", { attrs: { id: "url-title" }, text: "Add web pages" }),
    h("label", { class: "sr-only", attrs: { for: "url-input" }, text: "Web addresses" }),
    textarea,
    hint,
    skippedBox,
    h("div", { class: "dialog-actions" }, countEl, h("span", { class: "grow" }), cancel, submit),
  );
  const dialog = h(
    "dialog",
    { class: "dialog", attrs: { "aria-labelledby": "url-title" }, data: { testid: "url-dialog" } },
    form,
  );

  const update = () => {
    const n = parseUrlList(textarea.value).length;
    setText(countEl, n ? plural(n, "address", "addresses") : "");
    submit.disabled = n === 0;
  };
  textarea.addEventListener("input", update);
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const urls = parseUrlList(textarea.value);
    if (urls.length === 0) return;
    submit.disabled = true;
    try {
      const r = await ctx.backend.addUrls(urls);
      onAdded(r);
      if (r.skipped.length === 0) {
        textarea.value = "";
        dialog.close();
      } else {
        skippedBox.hidden = false;
        skippedBox.replaceChildren(
          h("p", {
            text: `${r.added.length ? `Added ${plural(r.added.length, "page")}. ` : ""}${plural(r.skipped.length, "address", "addresses")} could not be added:`,
          }),
          h("ul", {}, ...r.skipped.map((s) => h("li", {}, h("code", { text: s.input }), ` — ${s.reason}`))),
        );
        // leave only what was skipped, so it can be fixed and sent again
        textarea.value = r.skipped.map((s) => s.input).join("\n");
        textarea.focus();
      }
    } catch (err) {
      ctx.toast.show(`Could not add the addresses: ${errorMessage(err)}`, { kind: "error" });
    } finally {
      update();
    }
  });

  return {
    el: dialog,
    open() {
      skippedBox.hidden = true;
      update();
      dialog.showModal();
      textarea.focus();
    },
  };
}

export function createDetailsDialog(ctx: Ctx) {
  const title = h("h2", { attrs: { id: "details-title" }, class: "details-title" });
  const dl = h("dl", { class: "details" });
  const retry = button("Retry", { icon: "retry", class: "btn btn-primary", testid: "details-retry" });
  const del = button("Delete", { icon: "trash", class: "btn btn-danger", testid: "details-delete" });
  const close = button("Close", { testid: "details-close" });
  const dialog = h(
    "dialog",
    { class: "dialog dialog-wide", attrs: { "aria-labelledby": "details-title" }, data: { testid: "details-dialog" } },
    h(
      "div",
      { class: "dialog-body" },
      title,
      dl,
      h("div", { class: "dialog-actions" }, h("span", { class: "grow" }), del, retry, close),
    ),
  );
  let id: string | null = null;
  close.addEventListener("click", () => dialog.close());
  retry.addEventListener("click", () => {
    if (id) ctx.actions.retry(id);
    dialog.close();
  });
  del.addEventListener("click", () => {
    if (id) ctx.actions.remove(id);
    dialog.close();
  });

  function fill(it: Item) {
    setText(title, it.name);
    const rows: [string, string, string?][] = [
      ["Status", badgeText(it)],
      ["Type", `${kindLabel(it)}${it.mime ? ` (${it.mime})` : ""}`],
      ["Location", it.location],
      ["Size", humanSize(it.size)],
      ["Added", absoluteTime(it.addedAt)],
      ["Updated", absoluteTime(it.updatedAt)],
      ["Attempts", `${it.attempts} of ${it.maxAttempts}`],
    ];
    // right after Location: the file there was deleted, the item kept
    if (it.missingSince) rows.splice(3, 0, ["Missing", `${missingText(it.missingSince)}.`, "missing"]);
    // what the format says (an e-mail's From, To, Date): after Type and Location
    const at = rows.findIndex(([k]) => k === "Location") + 1;
    rows.splice(at, 0, ...it.metadata.map(({ label, value }): [string, string] => [label, value]));
    if (it.extractor) rows.push(["Read by", it.extractor]);
    if (it.stage) rows.push(["Stage", it.stage]);
    if (it.jobId) rows.push(["Job", it.jobId]);
    if (it.duplicateOf) rows.push(["Duplicate of", ctx.store.get(it.duplicateOf)?.name ?? it.duplicateOf]);
    if (it.error) rows.push(["Error", it.error, "error"]);
    dl.replaceChildren(
      ...rows.flatMap(([k, v, cls]) => [h("dt", { text: k }), h("dd", { class: cls ?? "", text: v })]),
    );
    retry.hidden = it.status !== "failed";
  }

  return {
    el: dialog,
    open(itemId: string) {
      const it = ctx.store.get(itemId);
      if (!it) return;
      id = itemId;
      fill(it);
      if (!dialog.open) dialog.showModal();
      close.focus();
    },
    /** keep an open dialog live */
    refresh() {
      if (dialog.open && id) {
        const it = ctx.store.get(id);
        if (it) fill(it);
        else dialog.close();
      }
    },
  };
}

// Keyboard shortcuts: ONE table drives both the global keydown handler and the help
// overlay ("?" or F1), so what the overlay lists is what the keys do. Each entry's
// matcher is built from the keys exactly as they are displayed.
//
// Entries with an `action` are handled here, on the document. Entries without one are the
// list's own keys (ui/library/interaction.ts handles them on a focused row); they are
// listed so the overlay shows every key, but nothing here acts on them.
import { button, h } from "./dom";

/** What a global shortcut does; app.ts supplies one handler for each. */
export type ShortcutAction = "search" | "ask" | "addFiles" | "addFolder" | "addUrls" | "folders" | "settings" | "help";

/** The part of a KeyboardEvent a matcher looks at. */
export type KeyLike = Pick<KeyboardEvent, "key" | "code" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">;

export interface Shortcut {
  /** the keys as the overlay shows them, e.g. "Ctrl+Shift+O"; any of them works */
  keys: readonly string[];
  description: string;
  /** "app": anywhere in the window; "list": on a focused row of the library list */
  scope: "app" | "list";
  /** null: listed only (the list handles the key itself) */
  action: ShortcutAction | null;
  /**
   * true when `e` is one of `keys`. `typing` (focus in a text field): a printable key
   * without Ctrl ("?", "/") is text then, never a shortcut.
   */
  match(e: KeyLike, typing?: boolean): boolean;
}

const NAMED: Record<string, string> = {
  Space: " ",
  "↑": "ArrowUp",
  "↓": "ArrowDown",
  "←": "ArrowLeft",
  "→": "ArrowRight",
  Esc: "Escape",
  Del: "Delete",
};

interface Combo {
  ctrl: boolean;
  shift: boolean;
  /** e.key to compare with (letters lower-case) */
  key: string;
  /** a single printable character */
  printable: boolean;
}

/** "Ctrl+Shift+O" → { ctrl, shift, key: "o" }; "Ctrl+," → { ctrl, key: "," }; "?" → { key: "?" } */
export function parseKeys(label: string): Combo {
  const parts = label.length > 1 ? label.split("+") : [label];
  // "Ctrl++" would be a "+" key: not used, but keep the split honest
  if (label.endsWith("++")) parts.splice(-2, 2, "+");
  const last = parts.pop() ?? "";
  const mods = new Set(parts);
  for (const m of mods) if (m !== "Ctrl" && m !== "Shift") throw new Error(`unknown modifier ${m} in ${label}`);
  const key = NAMED[last] ?? (last.length === 1 ? last.toLowerCase() : last);
  return { ctrl: mods.has("Ctrl"), shift: mods.has("Shift"), key, printable: key.length === 1 && key !== " " };
}

/** A matcher for one displayed key combination. Ctrl means Ctrl or ⌘ (Meta). */
function comboMatcher(label: string): (e: KeyLike, typing: boolean) => boolean {
  const c = parseKeys(label);
  const plain = !c.ctrl && c.printable;
  const letter = /^[a-z]$/.test(c.key);
  // Punctuation ("?", "/", ",") is reached with or without Shift depending on the layout:
  // its Shift state is not compared. Letters and named keys compare it ("Ctrl+O" is not
  // "Ctrl+Shift+O").
  const checkShift = !c.printable || letter;
  return (e, typing) => {
    if (typing && plain) return false;
    if (e.altKey) return false;
    if (c.ctrl !== (e.ctrlKey || e.metaKey)) return false;
    if (checkShift && c.shift !== e.shiftKey) return false;
    const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (k === c.key) return true;
    // a non-Latin layout (Cyrillic, Greek…): the physical key of the letter
    return letter && !/^[a-z]$/.test(k) && e.code === `Key${c.key.toUpperCase()}`;
  };
}

function entry(
  scope: Shortcut["scope"],
  keys: readonly string[],
  description: string,
  action: ShortcutAction | null = null,
): Shortcut {
  const matchers = keys.map(comboMatcher);
  return { keys, description, scope, action, match: (e, typing = false) => matchers.some((m) => m(e, typing)) };
}

/** Every shortcut Trove has, in the order the overlay lists them. */
export const SHORTCUTS: readonly Shortcut[] = [
  entry("app", ["Ctrl+K", "Ctrl+F", "/"], "Search your library", "search"),
  entry("app", ["Ctrl+J"], "Ask your library a question", "ask"),
  entry("app", ["Ctrl+O"], "Add files", "addFiles"),
  entry("app", ["Ctrl+Shift+O"], "Add a folder", "addFolder"),
  entry("app", ["Ctrl+L"], "Add links (web pages)", "addUrls"),
  entry("app", ["Ctrl+Shift+F"], "Open the watched folders", "folders"),
  entry("app", ["Ctrl+,"], "Open Settings", "settings"),
  entry("app", ["?", "F1"], "Show these keyboard shortcuts", "help"),
  entry("list", ["Enter"], "Open the item's details"),
  entry("list", ["Delete"], "Delete the item (or the selected items), with Undo"),
  entry("list", ["R"], "Retry a failed item (or the selected items)"),
  entry("list", ["Space"], "Select or unselect the item"),
  entry("list", ["Shift+↑", "Shift+↓"], "Extend the selection"),
  entry("list", ["Ctrl+A"], "Select all items in the list"),
  entry("list", ["Escape"], "Clear the selection"),
];

export const SCOPE_TITLES: Record<Shortcut["scope"], string> = {
  app: "Anywhere in the window",
  list: "In the library list (on a focused item)",
};

/** "Ctrl+K or Ctrl+F or /": the keys of an action, for tooltips. */
export function keysFor(action: ShortcutAction): string {
  return SHORTCUTS.find((s) => s.action === action)?.keys.join(" or ") ?? "";
}

/** True when keys typed at `target` are text (a field or an editable element). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])") !== null;
}

/** The global shortcut `e` triggers, if any. `typing`: focus is in a text field. */
export function findShortcut(e: KeyLike, typing: boolean): Shortcut | undefined {
  return SHORTCUTS.find((s) => s.action !== null && s.match(e, typing));
}

/**
 * Handle the table's global shortcuts on `doc`. Nothing fires while a <dialog> is open
 * (Escape still closes it natively), while composing text, or when a view already handled
 * the key. Returns a function that removes the handler.
 */
export function bindShortcuts(doc: Document, run: Record<ShortcutAction, () => void>): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.isComposing) return;
    if (doc.querySelector("dialog[open]")) return;
    const s = findShortcut(e, isTypingTarget(e.target));
    if (!s?.action) return;
    e.preventDefault();
    run[s.action]();
  };
  doc.addEventListener("keydown", onKey);
  return () => doc.removeEventListener("keydown", onKey);
}

/** The help overlay: a modal dialog with a table of SHORTCUTS. */
export function createShortcutsDialog() {
  const close = button("Close", { testid: "shortcuts-close" });
  const table = h(
    "table",
    { class: "shortcuts-table", data: { testid: "shortcuts-table" } },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { attrs: { scope: "col" }, text: "Keys" }),
        h("th", { attrs: { scope: "col" }, text: "Does" }),
      ),
    ),
  );
  for (const scope of Object.keys(SCOPE_TITLES) as Shortcut["scope"][]) {
    const body = h(
      "tbody",
      {},
      h(
        "tr",
        { class: "shortcuts-group" },
        h("th", { attrs: { scope: "colgroup", colspan: 2 }, text: SCOPE_TITLES[scope] }),
      ),
    );
    for (const s of SHORTCUTS) {
      if (s.scope !== scope) continue;
      const keys = h("td", { class: "shortcuts-keys" });
      s.keys.forEach((k, i) => {
        if (i > 0) keys.append(" or ");
        keys.append(h("kbd", { text: k }));
      });
      body.append(h("tr", { data: { testid: "shortcut-row", scope } }, keys, h("td", { text: s.description })));
    }
    table.append(body);
  }
  const dialog = h(
    "dialog",
    { class: "dialog", attrs: { "aria-labelledby": "shortcuts-title" }, data: { testid: "shortcuts-dialog" } },
    h(
      "div",
      { class: "dialog-body" },
      h("h2", { attrs: { id: "shortcuts-title" }, text: "Keyboard shortcuts" }),
      table,
      h("p", { class: "muted small", text: "On a Mac, ⌘ works wherever Ctrl is shown." }),
      h("div", { class: "dialog-actions" }, h("span", { class: "grow" }), close),
    ),
  );
  close.addEventListener("click", () => dialog.close());
  return {
    el: dialog,
    open() {
      if (!dialog.open) dialog.showModal();
      close.focus();
    },
  };
}

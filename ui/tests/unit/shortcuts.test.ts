import { describe, expect, it } from "vitest";
import { findShortcut, type KeyLike, keysFor, parseKeys, SHORTCUTS } from "../../src/ui/shortcuts";

function key(k: string, mods: Partial<KeyLike> = {}): KeyLike {
  const code = /^[a-z]$/i.test(k) ? `Key${k.toUpperCase()}` : "";
  return { key: k, code, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods };
}
const action = (e: KeyLike, typing = false) => findShortcut(e, typing)?.action;

describe("shortcut table", () => {
  it("has one entry per global action and every key parses", () => {
    const actions = SHORTCUTS.flatMap((s) => (s.action ? [s.action] : []));
    expect(actions.sort()).toEqual([
      "addFiles",
      "addFolder",
      "addUrls",
      "ask",
      "folders",
      "help",
      "search",
      "settings",
    ]);
    for (const s of SHORTCUTS) for (const k of s.keys) expect(() => parseKeys(k)).not.toThrow();
  });
  it("parses displayed keys", () => {
    expect(parseKeys("Ctrl+Shift+O")).toEqual({ ctrl: true, shift: true, key: "o", printable: true });
    expect(parseKeys("Ctrl+,")).toEqual({ ctrl: true, shift: false, key: ",", printable: true });
    expect(parseKeys("?")).toEqual({ ctrl: false, shift: false, key: "?", printable: true });
    expect(parseKeys("F1")).toEqual({ ctrl: false, shift: false, key: "F1", printable: false });
    expect(parseKeys("Shift+↓")).toEqual({ ctrl: false, shift: true, key: "ArrowDown", printable: false });
    expect(parseKeys("Space")).toEqual({ ctrl: false, shift: false, key: " ", printable: false });
  });
  it("tooltips read the table", () => {
    expect(keysFor("search")).toBe("Ctrl+K or Ctrl+F or /");
    expect(keysFor("settings")).toBe("Ctrl+,");
    expect(keysFor("folders")).toBe("Ctrl+Shift+F");
    expect(keysFor("help")).toBe("? or F1");
    expect(keysFor("ask")).toBe("Ctrl+J");
  });
});

describe("findShortcut", () => {
  it("matches Ctrl or ⌘ combinations", () => {
    expect(action(key("k", { ctrlKey: true }))).toBe("search");
    expect(action(key("f", { metaKey: true }))).toBe("search");
    expect(action(key("o", { ctrlKey: true }))).toBe("addFiles");
    expect(action(key("O", { ctrlKey: true, shiftKey: true }))).toBe("addFolder");
    expect(action(key("l", { ctrlKey: true }))).toBe("addUrls");
    expect(action(key(",", { ctrlKey: true }))).toBe("settings");
    expect(action(key(",", { metaKey: true }))).toBe("settings");
    expect(action(key("F", { ctrlKey: true, shiftKey: true }))).toBe("folders");
    expect(action(key("f", { metaKey: true, shiftKey: true }))).toBe("folders");
    expect(action(key("j", { ctrlKey: true }))).toBe("ask");
    expect(action(key("J", { metaKey: true }))).toBe("ask");
    // a field's text is no reason to miss it (it has Ctrl), and Shift is not it
    expect(action(key("j", { ctrlKey: true }), true)).toBe("ask");
    expect(action(key("J", { ctrlKey: true, shiftKey: true }))).toBeUndefined();
    expect(action(key("j")), "plain j is text").toBeUndefined();
    // Shift tells the folders from search
    expect(action(key("f", { ctrlKey: true }))).toBe("search");
  });
  it("needs the modifiers shown, and no others", () => {
    expect(action(key("o"))).toBeUndefined();
    expect(action(key("k"))).toBeUndefined();
    expect(action(key("o", { ctrlKey: true, altKey: true }))).toBeUndefined();
    expect(action(key("L", { ctrlKey: true, shiftKey: true }))).toBeUndefined();
    expect(action(key("/", { ctrlKey: true }))).toBeUndefined();
  });
  it("punctuation matches whatever Shift the layout needs", () => {
    expect(action(key("?", { shiftKey: true }))).toBe("help");
    expect(action(key("?"))).toBe("help");
    expect(action(key("/"))).toBe("search");
    expect(action(key("F1"))).toBe("help");
  });
  it("plain keys are left to text fields; Ctrl combinations and F1 are not", () => {
    expect(action(key("?", { shiftKey: true }), true)).toBeUndefined();
    expect(action(key("/"), true)).toBeUndefined();
    expect(action(key("k", { ctrlKey: true }), true)).toBe("search");
    expect(action(key("F1"), true)).toBe("help");
  });
  it("a letter on a non-Latin layout matches by its physical key", () => {
    expect(action({ ...key("щ", { ctrlKey: true }), code: "KeyO" })).toBe("addFiles");
    expect(action({ ...key("л", { ctrlKey: true }), code: "KeyK" })).toBe("search");
    expect(action({ ...key("А", { ctrlKey: true, shiftKey: true }), code: "KeyF" })).toBe("folders");
    expect(action({ ...key("о", { ctrlKey: true }), code: "KeyJ" })).toBe("ask");
  });
  it("the list's own keys are listed but not handled globally", () => {
    for (const e of [key("Delete"), key("r"), key(" "), key("a", { ctrlKey: true }), key("Enter"), key("Escape")]) {
      expect(action(e)).toBeUndefined();
    }
    const listed = SHORTCUTS.filter((s) => s.scope === "list");
    expect(listed.map((s) => s.keys.join(" "))).toEqual([
      "Enter",
      "Delete",
      "R",
      "Space",
      "Shift+↑ Shift+↓",
      "Ctrl+A",
      "Escape",
    ]);
    expect(listed.every((s) => s.action === null)).toBe(true);
    // and the displayed keys are what the list reacts to
    expect(listed.find((s) => s.keys[0] === "R")!.match(key("r"))).toBe(true);
    expect(listed.find((s) => s.keys[0] === "Ctrl+A")!.match(key("a", { ctrlKey: true }))).toBe(true);
    expect(listed.find((s) => s.keys[0] === "Shift+↑")!.match(key("ArrowDown", { shiftKey: true }))).toBe(true);
  });
});

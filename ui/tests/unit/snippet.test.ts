import { describe, expect, it } from "vitest";
import { snippetPlainText, splitAround, splitSnippet } from "../../src/lib/snippet";

describe("splitSnippet", () => {
  it("splits marked terms", () => {
    expect(splitSnippet("a \u0002b\u0003 c \u0002d\u0003")).toEqual([
      { text: "a ", mark: false },
      { text: "b", mark: true },
      { text: " c ", mark: false },
      { text: "d", mark: true },
    ]);
  });
  it("shows a PDF page break as a space", () => {
    expect(splitSnippet("end of page one.\f\u0002Gallimaufry\u0003 begins")).toEqual([
      { text: "end of page one. ", mark: false },
      { text: "Gallimaufry", mark: true },
      { text: " begins", mark: false },
    ]);
  });
  it("returns plain text unchanged", () => {
    expect(splitSnippet("plain")).toEqual([{ text: "plain", mark: false }]);
    expect(splitSnippet("")).toEqual([]);
  });
  it("keeps HTML as literal text", () => {
    const parts = splitSnippet("<script>x</script> \u0002<b>\u0003");
    expect(parts).toEqual([
      { text: "<script>x</script> ", mark: false },
      { text: "<b>", mark: true },
    ]);
  });
  it("tolerates stray, unbalanced and nested markers", () => {
    expect(splitSnippet("a\u0003b")).toEqual([{ text: "ab", mark: false }]);
    expect(splitSnippet("a\u0002b")).toEqual([
      { text: "a", mark: false },
      { text: "b", mark: true },
    ]);
    expect(splitSnippet("\u0002a\u0002b\u0003c")).toEqual([
      { text: "ab", mark: true },
      { text: "c", mark: false },
    ]);
    expect(splitSnippet("\u0002\u0003x")).toEqual([{ text: "x", mark: false }]);
  });
  it("merges adjacent marks", () => {
    expect(splitSnippet("\u0002a\u0003\u0002b\u0003")).toEqual([{ text: "ab", mark: true }]);
  });
  it("handles astral characters", () => {
    expect(splitSnippet("😀\u0002é😀\u0003")).toEqual([
      { text: "😀", mark: false },
      { text: "é😀", mark: true },
    ]);
  });
  it("plain text strips markers", () => {
    expect(snippetPlainText("a\u0002b\u0003c")).toBe("abc");
  });
});

describe("splitAround", () => {
  it("splits by UTF-16 range", () => {
    expect(splitAround("hello world", 6, 11)).toEqual(["hello ", "world", ""]);
    expect(splitAround("😀ab", 2, 3)).toEqual(["😀", "a", "b"]);
  });
  it("clamps bad ranges", () => {
    expect(splitAround("abc", -5, 99)).toEqual(["", "abc", ""]);
    expect(splitAround("abc", 2, 1)).toEqual(["ab", "", "c"]);
  });
});

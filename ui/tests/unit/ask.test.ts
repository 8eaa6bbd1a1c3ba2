import { describe, expect, it } from "vitest";
import { type AnswerPart, citedIn, HISTORY_TURNS, historyFor, splitAnswer } from "../../src/lib/ask";

const t = (text: string): AnswerPart => ({ kind: "text", text });
const c = (n: number): AnswerPart => ({ kind: "cite", n });
/** The parts written back as text (citations as [n]), to check nothing is lost. */
const joined = (parts: AnswerPart[]) => parts.map((p) => (p.kind === "text" ? p.text : `[${p.n}]`)).join("");

describe("splitAnswer", () => {
  it("splits single citations out of the text", () => {
    expect(splitAnswer("Revenue grew [1] and hiring slowed [2].", 3)).toEqual([
      t("Revenue grew "),
      c(1),
      t(" and hiring slowed "),
      c(2),
      t("."),
    ]);
  });

  it("reads groups with or without spaces, commas or semicolons, and adjacent brackets", () => {
    expect(splitAnswer("a [1,2] b", 3)).toEqual([t("a "), c(1), c(2), t(" b")]);
    expect(splitAnswer("a [1, 3] b", 3)).toEqual([t("a "), c(1), c(3), t(" b")]);
    expect(splitAnswer("a [ 2 ;3 ] b", 3)).toEqual([t("a "), c(2), c(3), t(" b")]);
    expect(splitAnswer("a [1][3] b", 3)).toEqual([t("a "), c(1), c(3), t(" b")]);
  });

  it("reads ranges, short ones only, and a number repeated in a group once", () => {
    expect(splitAnswer("[2-4]", 5)).toEqual([c(2), c(3), c(4)]);
    expect(splitAnswer("[2–3]", 5)).toEqual([c(2), c(3)]);
    expect(splitAnswer("[1, 1]", 5)).toEqual([c(1)]);
    // backwards or past the passages: text
    expect(splitAnswer("[3-2]", 5)).toEqual([t("[3-2]")]);
    expect(splitAnswer("[1-30]", 40)).toEqual([t("[1-30]")]);
  });

  it("keeps numbers that are not passages as text", () => {
    expect(splitAnswer("see [12].", 3)).toEqual([t("see [12].")]);
    expect(splitAnswer("see [0].", 3)).toEqual([t("see [0].")]);
    expect(splitAnswer("see [4]", 3)).toEqual([t("see [4]")]);
    // a group citing something keeps the others as they were written
    expect(splitAnswer("see [1, 12].", 3)).toEqual([t("see "), c(1), t("[12].")]);
    expect(splitAnswer("x [3][4]", 3)).toEqual([t("x "), c(3), t("[4]")]);
    // no passages at all: nothing is a citation
    expect(splitAnswer("[1]", 0)).toEqual([t("[1]")]);
  });

  it("leaves other brackets alone", () => {
    for (const s of ["[a]", "[1a]", "[1.5]", "[^1]", "[]", "[ ]", "[1,]", "[,1]", "[-1]", "[12345]", "x [1 2] y"]) {
      expect(splitAnswer(s, 9), s).toEqual([t(s)]);
    }
  });

  it("reads the wordier [Source 1] and [passages 1, 2]", () => {
    expect(splitAnswer("as [Source 1] says", 2)).toEqual([t("as "), c(1), t(" says")]);
    expect(splitAnswer("[passages 1, 2]", 2)).toEqual([c(1), c(2)]);
    expect(splitAnswer("[sources: 1]", 2)).toEqual([t("[sources: 1]")]);
  });

  it("handles nested and unbalanced brackets", () => {
    expect(splitAnswer("[[1]]", 3)).toEqual([t("["), c(1), t("]")]);
    expect(splitAnswer("[see [2]]", 3)).toEqual([t("[see "), c(2), t("]")]);
    expect(splitAnswer("[1", 3)).toEqual([t("[1")]);
    expect(splitAnswer("1]", 3)).toEqual([t("1]")]);
    expect(splitAnswer("]][[1]", 3)).toEqual([t("]]["), c(1)]);
  });

  it("citations at the very start and end", () => {
    expect(splitAnswer("[1] starts", 2)).toEqual([c(1), t(" starts")]);
    expect(splitAnswer("ends [2]", 2)).toEqual([t("ends "), c(2)]);
    expect(splitAnswer("[1]", 2)).toEqual([c(1)]);
    expect(splitAnswer("", 2)).toEqual([]);
  });

  it("unicode around citations (CJK, emoji, RTL) and full-width brackets as text", () => {
    expect(splitAnswer("日本語の答え[1]。", 2)).toEqual([t("日本語の答え"), c(1), t("。")]);
    expect(splitAnswer("🐘 big [2] 🐘", 2)).toEqual([t("🐘 big "), c(2), t(" 🐘")]);
    expect(splitAnswer("שלום [1] עולם", 2)).toEqual([t("שלום "), c(1), t(" עולם")]);
    // Arabic-Indic digits and full-width brackets are not what the prompt asks for
    expect(splitAnswer("[١] ［1］", 2)).toEqual([t("[١] ［1］")]);
  });

  it("a citation cut in the middle of streaming is text until its bracket closes", () => {
    const answer = "It grew [1, 2].";
    const seen = [1, 9, 10, 13, 14, answer.length].map((n) => splitAnswer(answer.slice(0, n), 2));
    expect(seen[2]).toEqual([t("It grew [1")]);
    expect(seen[3]).toEqual([t("It grew [1, 2")]);
    expect(seen[4]).toEqual([t("It grew "), c(1), c(2)]);
    expect(seen[5]).toEqual([t("It grew "), c(1), c(2), t(".")]);
  });

  it("keeps HTML as text and loses nothing of plain text", () => {
    const s = '<img src=x onerror="1"> [1] <b>';
    const parts = splitAnswer(s, 1);
    expect(parts).toEqual([t('<img src=x onerror="1"> '), c(1), t(" <b>")]);
    expect(joined(parts)).toBe(s);
  });
});

describe("citedIn", () => {
  it("lists each cited passage once, in the order first cited", () => {
    expect(citedIn("b [2] a [1] again [2] [1, 3] and [9]", 3)).toEqual([2, 1, 3]);
    expect(citedIn("nothing cited", 3)).toEqual([]);
    expect(citedIn("[12]", 3)).toEqual([]);
  });
});

describe("historyFor", () => {
  const turn = (i: number, answer: string | null = `answer ${i}`) => ({ question: `q${i}`, answer });

  it("sends the last three answered turns, oldest first", () => {
    expect(HISTORY_TURNS).toBe(3);
    const turns = [1, 2, 3, 4, 5].map((i) => turn(i));
    expect(historyFor(turns)).toEqual([
      { question: "q3", answer: "answer 3" },
      { question: "q4", answer: "answer 4" },
      { question: "q5", answer: "answer 5" },
    ]);
  });

  it("leaves out turns without an answer (and blank ones), not counting them", () => {
    const turns = [turn(1), turn(2), turn(3, null), turn(4, "  "), turn(5)];
    expect(historyFor(turns).map((h) => h.question)).toEqual(["q1", "q2", "q5"]);
  });

  it("a new conversation, or a smaller limit", () => {
    expect(historyFor([])).toEqual([]);
    expect(historyFor([turn(1), turn(2)], 1)).toEqual([{ question: "q2", answer: "answer 2" }]);
    expect(historyFor([turn(1)], 0)).toEqual([]);
  });

  it("sends copies with only question and answer", () => {
    const turns = [{ question: "q", answer: "a", passages: [1, 2] }];
    const h = historyFor(turns);
    expect(h).toEqual([{ question: "q", answer: "a" }]);
    expect(Object.keys(h[0]!)).toEqual(["question", "answer"]);
  });
});

// Pure logic of the Ask view: an answer's text split into text and citations ([1], [1, 3],
// [1][3], [2-4]) of the passages it was given, the numbers it cites, and which earlier turns
// go with a follow-up question.
import type { AskTurn } from "../backend/types";

/** A piece of an answer: plain text, or one citation of passage `n` (1-based). */
export type AnswerPart = { kind: "text"; text: string } | { kind: "cite"; n: number };

/** How many earlier turns a follow-up question carries. */
export const HISTORY_TURNS = 3;

/** The longest range `[a-b]` read as citations of every passage from a to b. */
const MAX_RANGE = 10;

/**
 * A bracketed group of numbers: `[1]`, `[1, 3]`, `[1;3]`, `[2-4]`, `[2–4]`, `[ 1 ]`, and the
 * wordier `[Source 1]` / `[passages 1, 2]` some models write. Anything else in brackets (`[a]`,
 * `[1.5]`, `[^1]`, `[]`) is text.
 */
const GROUP =
  /\[\s*(?:(?:sources?|passages?)\s*)?(\d{1,4}(?:\s*[-–]\s*\d{1,4})?(?:\s*[,;]\s*\d{1,4}(?:\s*[-–]\s*\d{1,4})?)*)\s*\]/giu;
const PIECE = /^(\d+)(?:\s*[-–]\s*(\d+))?$/u;

/**
 * Split an answer into text and citations of passages 1..`count`. A group is cut into one
 * citation per number ("[1, 3]" → 1, 3; "[2-4]" → 2, 3, 4; a number repeated in a group once).
 * Numbers that are not passages stay as the text they were: "[12]" with 3 passages is text,
 * and in "[1, 12]" the 12 is kept as the text "[12]" beside the citation of 1. Adjacent text
 * is merged; nothing is lost but the separators inside a group that cites something.
 */
export function splitAnswer(text: string, count: number): AnswerPart[] {
  const parts: AnswerPart[] = [];
  const pushText = (t: string) => {
    if (!t) return;
    const last = parts[parts.length - 1];
    if (last?.kind === "text") last.text += t;
    else parts.push({ kind: "text", text: t });
  };
  let at = 0;
  for (const m of text.matchAll(GROUP)) {
    const start = m.index ?? 0;
    const group: AnswerPart[] = [];
    const seen = new Set<number>();
    for (const raw of m[1]!.split(/[,;]/u)) {
      const piece = raw.trim();
      const r = PIECE.exec(piece);
      const a = Number(r?.[1]);
      const b = r?.[2] !== undefined ? Number(r[2]) : a;
      if (!r || a < 1 || b < a || b > count || b - a >= MAX_RANGE) {
        group.push({ kind: "text", text: `[${piece}]` });
        continue;
      }
      for (let n = a; n <= b; n++) {
        if (seen.has(n)) continue;
        seen.add(n);
        group.push({ kind: "cite", n });
      }
    }
    pushText(text.slice(at, start));
    if (seen.size === 0) pushText(m[0]);
    else for (const p of group) p.kind === "text" ? pushText(p.text) : parts.push(p);
    at = start + m[0].length;
  }
  pushText(text.slice(at));
  return parts;
}

/** The passages an answer cites (1..`count`), each once, in the order first cited. */
export function citedIn(text: string, count: number): number[] {
  const out: number[] = [];
  for (const p of splitAnswer(text, count)) if (p.kind === "cite" && !out.includes(p.n)) out.push(p.n);
  return out;
}

/** A question asked in this conversation and what came of it (null: no answer was written). */
export interface AskedTurn {
  question: string;
  answer: string | null;
}

/**
 * What a follow-up question sends along: the last `max` turns that were answered (a question
 * without an answer — no endpoint, nothing close, the endpoint failed — tells the model
 * nothing), oldest first, as question and final answer text.
 */
export function historyFor(turns: readonly AskedTurn[], max = HISTORY_TURNS): AskTurn[] {
  if (max <= 0) return [];
  const answered = turns.filter((t) => t.answer !== null && t.answer.trim() !== "");
  return answered.slice(-max).map((t) => ({ question: t.question, answer: t.answer! }));
}

// `ask` in the browser: the passages come from the fake's own search (what the engine's
// hybrid search would hand the model), numbered 1..n; with the chat-url setting empty there
// is no endpoint (no tokens, no answer); otherwise a canned answer that names the question
// and cites [1] and [2] streams in small pieces. Hooks make the endpoint slow, write another
// answer, pause in the middle of one, or fail (`configureAsk`, `resumeAsk`) and show what was
// sent (`asks`).
import { SETTINGS } from "../../bindings";
import { citedIn } from "../../lib/ask";
import type { AskAnswer, AskEvent, AskPassage, AskTurn, SearchHit } from "../types";
import { chunksOf, docText } from "./content";
import { err } from "./data";
import { splitWords } from "./query";
import { searchLibrary } from "./search";
import type { FakeState } from "./state";

/** How many passages the model is given. */
const PASSAGES = 5;

/** Words of a question that say nothing about what it is about. */
const QUESTION_WORDS = new Set(
  "what who whom whose where when why how which tell say says said explain describe mention mentions does do did is are was were can could should would please me my know about".split(
    " ",
  ),
);

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

const defaultOf = (name: string) => SETTINGS.find((x) => x.name === name)?.default ?? "";

/** The whole text of a hit's passage. */
function passageOf(s: FakeState, hit: SearchHit, n: number): AskPassage {
  const id = s.bySeq.get(Math.floor(hit.chunkId / 1000))!;
  const text = docText(s, id);
  const [a, b] = chunksOf(text)[hit.chunkId % 1000]!;
  return {
    n,
    itemId: hit.itemId,
    name: hit.name,
    location: hit.location,
    chunkId: hit.chunkId,
    page: hit.page,
    pageUnit: hit.pageUnit,
    text: text.slice(a, b).replace(/\f/g, "\n").trim(),
    similarity: hit.similarity,
  };
}

/** What the fake model writes: it names the question (and the one followed up) and cites [1], [2]. */
export function cannedAnswer(question: string, passages: AskPassage[], history: AskTurn[]): string {
  const [a, b] = passages;
  const prev = history[history.length - 1];
  const lead = prev ? `Following up on “${prev.question}”: ` : "";
  let t = `${lead}On “${question}”, the closest passage in your library is in ${a!.name} [1]`;
  if (b) t += `, and ${b.name} adds to it [2]. Both say much the same [1, 2].`;
  else t += ". No other passage speaks to it.";
  return t;
}

/** The answer in pieces of a few words; a citation arrives cut in two ("[1" then "]"), as a stream may cut it. */
export function tokensOf(text: string): string[] {
  const words = text.match(/\S+\s*/gu) ?? [];
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 3) out.push(words.slice(i, i + 3).join(""));
  return out.flatMap((t) => t.split(/(?<=\[\d)/u));
}

export function askCommands(s: FakeState) {
  return {
    async ask(question: string, history: AskTurn[], onEvent: (e: AskEvent) => void): Promise<AskAnswer> {
      const q = question.trim();
      if (!q) throw err("invalid", "Type a question to ask.");
      s.asks.push({ question: q, history: history.map((t) => ({ question: t.question, answer: t.answer })) });
      const words = splitWords(q).filter((w) => !QUESTION_WORDS.has(w));
      const res = words.length ? await searchLibrary(s, words.join(" "), PASSAGES) : null;
      const hits = res?.hits.slice(0, PASSAGES) ?? [];
      const relevant = hits.length > 0 && !res?.noCloseMatches;
      const passages = hits.map((h, i) => passageOf(s, h, i + 1));
      const endpoint = (s.settings.get("chat-url") ?? defaultOf("chat-url")).trim() || null;
      const model = endpoint ? (s.settings.get("chat-model") ?? defaultOf("chat-model")) : null;
      const answering = endpoint !== null && relevant;
      onEvent({ type: "passages", passages, relevant, answering });
      const outcome = { question: q, passages, relevant, endpoint, model };
      if (!answering) return { ...outcome, answer: null, cited: [], error: null };
      const b = s.ask;
      if (b.error !== null) {
        await sleep(b.tokenMs);
        return { ...outcome, answer: null, cited: [], error: b.error.replaceAll("{endpoint}", endpoint!) };
      }
      const answer = b.answer?.replaceAll("{question}", q) ?? cannedAnswer(q, passages, history);
      for (const [i, text] of tokensOf(answer).entries()) {
        if (b.pauseAfter !== null && i === b.pauseAfter) await new Promise<void>((ok) => b.waiting.push(ok));
        await sleep(b.tokenMs);
        onEvent({ type: "token", text });
      }
      return { ...outcome, answer, cited: citedIn(answer, passages.length), error: null };
    },
  };
}

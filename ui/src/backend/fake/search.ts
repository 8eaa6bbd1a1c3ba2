// Search commands: the engine's query syntax (query.ts) over generated texts, one hit per
// document (its best chunk), the relevance floor ("no close matches": the nearest few),
// "more like this", the semantic-index states of `?model=`, and opening a chunk.
import type { ChunkView, Coverage, Item, SearchHit, SearchMode, SearchResponse } from "../types";
import { chunksOf, docText } from "./content";
import { delay, err } from "./data";
import { hasFilters, hasTerms, parseQuery, type Query, STOP_WORDS, splitWords, typesMatch } from "./query";
import type { FakeState } from "./state";

/** When nothing is a close match, how many of the nearest are shown (the engine's). */
const NEAREST_SHOWN = 3;
/** Below this similarity a passage found by meaning is not a close match (the engine's). */
const SEMANTIC_FLOOR = 0.3;

const esc = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Phrases, whole words and `prefix*` starts, case-insensitively; null when there is nothing to mark. */
function termRegex(words: string[], phrases: string[][], prefixes: string[]): RegExp | null {
  const alts = [
    ...phrases.map((p) => `${p.map(esc).join("[^\\p{L}\\p{N}]+")}(?![\\p{L}\\p{N}])`),
    ...words.map((w) => `${esc(w)}(?![\\p{L}\\p{N}])`),
    ...prefixes.map((p) => `${esc(p)}[\\p{L}\\p{N}]*`),
  ];
  return alts.length ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join("|")})`, "giu") : null;
}

/** A snippet around the first match, terms wrapped in U+0002 … U+0003 (as Rust does). */
function makeSnippet(seg: string, re: RegExp | null): string {
  let first = 0;
  if (re) {
    re.lastIndex = 0;
    first = re.exec(seg)?.index ?? 0;
  }
  const from = Math.max(0, first - 60);
  let s = seg.slice(from, from + 160).replace(/\s+/g, " ");
  if (re) s = s.replace(re, "\u0002$&\u0003");
  return (from > 0 ? "… " : "") + s + (from + 160 < seg.length ? " …" : "");
}

/** The start of a chunk, nothing marked (the engine's snippet for a listing or "more like this"). */
function opening(seg: string): string {
  const s = seg.replace(/\s+/g, " ");
  return s.length > 240 ? `${s.slice(0, 240)}…` : s;
}

/** Whether `words` holds `phrase` as consecutive words. */
function hasPhrase(words: string[], phrase: string[]): boolean {
  for (let i = 0; i + phrase.length <= words.length; i++) {
    if (phrase.every((p, j) => words[i + j] === p)) return true;
  }
  return false;
}

/** The items a query's filters let through (completed ones: the others have no text). */
function scope(s: FakeState, q: Query): Item[] {
  const f = q.filters;
  const out: Item[] = [];
  for (const it of s.items.values()) {
    if (it.status !== "completed") continue;
    if (!typesMatch(f.types, it)) continue;
    const loc = it.location.toLowerCase();
    if (f.within.length && !f.within.some((w) => loc.includes(w.toLowerCase()))) continue;
    if (f.after && it.addedAt < f.after) continue;
    if (f.before && it.addedAt >= f.before) continue;
    out.push(it);
  }
  return out;
}

interface Found {
  hit: SearchHit;
  close: boolean;
}

function hitOf(s: FakeState, it: Item, ci: number, snippet: string, score: number, pageAt: number): SearchHit {
  const text = docText(s, it.id);
  const pdf = it.mime === "application/pdf";
  return {
    itemId: it.id,
    name: it.name,
    location: it.location,
    chunkId: s.meta.get(it.id)!.seq * 1000 + ci,
    page: pdf ? 1 + (text.slice(0, pageAt).match(/\f/g)?.length ?? 0) : null,
    pageUnit: pdf ? "page" : null,
    snippet,
    score,
    similarity: null,
  };
}

/** Letter trigrams of a text: the fake's stand-in for meaning. */
function trigrams(t: string): Set<string> {
  const out = new Set<string>();
  const x = ` ${splitWords(t).join(" ")} `;
  for (let i = 0; i + 3 <= x.length; i++) out.add(x.slice(i, i + 3));
  return out;
}

/** Content words (no function words) of a text. */
const contentWords = (t: string) => new Set(splitWords(t).filter((w) => !STOP_WORDS.has(w)));

/** An item's chunks, as ranges and words. */
interface Indexed {
  text: string;
  ranges: [number, number][];
  words: string[][];
}

/** Texts never change once generated: their chunks' words are worked out once. */
const indexes = new WeakMap<FakeState, Map<string, Indexed>>();

function indexed(s: FakeState, id: string): Indexed {
  let byId = indexes.get(s);
  if (!byId) {
    byId = new Map();
    indexes.set(s, byId);
  }
  const text = docText(s, id);
  let ix = byId.get(id);
  if (!ix || ix.text !== text) {
    const ranges = chunksOf(text);
    ix = { text, ranges, words: ranges.map(([a, b]) => splitWords(text.slice(a, b))) };
    byId.set(id, ix);
  }
  return ix;
}

function respond(s: FakeState, hits: SearchHit[], noCloseMatches: boolean, listing = false): Promise<SearchResponse> {
  if (s.model === "none") {
    const notice = "Semantic search is off: no embedding model installed";
    return delay({ hits, mode: "keyword", notice, canBuildIndex: false, noCloseMatches }, 40);
  }
  if (s.model === "unindexed" && !listing) {
    const notice = "The semantic index is empty for this model: build it to search by meaning.";
    return delay({ hits, mode: "hybrid", notice, canBuildIndex: true, noCloseMatches }, 40);
  }
  return delay({ hits, mode: "hybrid" as SearchMode, notice: null, canBuildIndex: false, noCloseMatches }, 40);
}

/** A query of filters (and exclusions) only: what they let through, newest first. */
function listing(s: FakeState, q: Query, items: Item[], limitN: number): SearchHit[] {
  const out: SearchHit[] = [];
  const sorted = [...items].sort((a, b) =>
    a.addedAt !== b.addedAt ? (a.addedAt < b.addedAt ? 1 : -1) : a.id < b.id ? -1 : 1,
  );
  for (const it of sorted) {
    const { text, ranges, words } = indexed(s, it.id);
    if (q.exclude.some((x) => words.some((w) => hasPhrase(w, x)))) continue;
    const [a, b] = ranges[0]!;
    out.push(hitOf(s, it, 0, opening(text.slice(a, b)), 0, a));
    if (out.length >= limitN) break;
  }
  return out;
}

/** What `search` answers, without recording the query (`ask` finds its passages with it too). */
export async function searchLibrary(s: FakeState, query: string, limitN: number): Promise<SearchResponse> {
  const q = parseQuery(query);
  const items = scope(s, q);
  if (!hasTerms(q)) {
    const listed = hasFilters(q.filters) || q.exclude.length ? listing(s, q, items, limitN) : [];
    return respond(s, listed, false, true);
  }
  const content = [...new Set(q.words.filter((w) => !STOP_WORDS.has(w)))];
  const phrases = [...q.phrases];
  // Only function words: they are the query, as a phrase.
  if (!content.length && !phrases.length && !q.prefixes.length) phrases.push(q.words);
  const re = termRegex(content, phrases, q.prefixes);
  const need = Math.max(2, Math.ceil(content.length / 2));
  /** a chunk's words have every phrase and prefix, and nothing excluded */
  const passes = (words: string[]) =>
    !q.exclude.some((x) => hasPhrase(words, x)) &&
    phrases.every((p) => hasPhrase(words, p)) &&
    q.prefixes.every((p) => words.some((w) => w.startsWith(p)));

  const strict: Found[] = [];
  const loose: Found[] = [];
  for (const it of items) {
    const { text, ranges, words: chunkWords } = indexed(s, it.id);
    let best: { strict: boolean; close: boolean; score: number; ci: number } | null = null;
    for (const [ci, words] of chunkWords.entries()) {
      if (!passes(words)) continue;
      const have = content.filter((w) => words.includes(w)).length;
      const all = have === content.length;
      if (!all && have === 0) continue;
      let score = 0;
      for (const w of words) {
        if (content.includes(w) || q.prefixes.some((p) => w.startsWith(p))) score += 1;
      }
      score += phrases.length;
      const cand = { strict: all, close: all || have >= need, score, ci };
      if (
        !best ||
        Number(cand.strict) > Number(best.strict) ||
        (cand.strict === best.strict && cand.score > best.score)
      )
        best = cand;
    }
    if (!best) continue;
    const b = best;
    const [start, end] = ranges[b.ci]!;
    const seg = text.slice(start, end);
    let first = 0;
    if (re) {
      re.lastIndex = 0;
      first = re.exec(seg)?.index ?? 0;
    }
    const score = b.score / (1 + Math.log(1 + content.length));
    const hit = hitOf(s, it, b.ci, makeSnippet(seg, re), score, start + first);
    (b.strict ? strict : loose).push({ hit, close: b.close });
  }
  // Every term first; only when nothing has them all, any plain word may do.
  const kw = strict.length ? strict : content.length > 1 ? loose : [];
  const byScore = (a: Found, b: Found) => b.hit.score - a.hit.score || a.hit.chunkId - b.hit.chunkId;
  kw.sort(byScore);
  const close = kw.filter((f) => f.close);
  const semantic = s.model === "indexed";
  if (close.length) {
    const hits = close.slice(0, limitN).map((f) => f.hit);
    if (semantic) for (const h of hits) h.similarity = Math.min(0.95, 0.35 + h.score / 10);
    return respond(s, hits, false);
  }
  // Nothing close: the nearest few, from the keyword leg's partial matches and (with
  // vectors) the documents nearest "in meaning" (here: letter trigrams shared with their
  // names; always below the floor), at their first passage that may be shown.
  const nearest = kw.map((f) => f.hit);
  if (semantic) {
    const want = trigrams([...phrases.flat(), ...q.words, ...q.prefixes].join(" "));
    const seen = new Set(nearest.map((h) => h.itemId));
    const byMeaning: SearchHit[] = [];
    for (const it of items) {
      if (seen.has(it.id)) continue;
      const ix = indexed(s, it.id);
      const ci = ix.words.findIndex(passes);
      if (ci < 0) continue;
      const have = trigrams(it.name);
      let shared = 0;
      for (const t of want) if (have.has(t)) shared += 1;
      const sim = 0.05 + (0.2 * shared) / Math.max(1, want.size);
      const [start, end] = ix.ranges[ci]!;
      const hit = hitOf(s, it, ci, makeSnippet(ix.text.slice(start, end), re), sim, start);
      hit.similarity = sim;
      byMeaning.push(hit);
    }
    byMeaning.sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
    nearest.push(...byMeaning);
  }
  const hits = nearest.slice(0, Math.min(limitN, NEAREST_SHOWN));
  return respond(s, hits, hits.length > 0);
}

export function searchCommands(s: FakeState) {
  return {
    async search(query: string, limitN: number): Promise<SearchResponse> {
      s.searches.push(query);
      return searchLibrary(s, query, limitN);
    },

    async similar(chunkId: number, limitN: number, filters: string): Promise<SearchResponse> {
      if (s.model === "none") {
        throw err(
          "invalid",
          "Finding similar passages needs the embedding model, and it is missing (reinstall Trove's package, or set an embedding service).",
        );
      }
      const id = s.bySeq.get(Math.floor(chunkId / 1000));
      const src = id ? s.items.get(id) : undefined;
      const range = src && id ? chunksOf(docText(s, id))[chunkId % 1000] : undefined;
      if (!src || !id || !range) throw err("not_found", `passage ${chunkId}`);
      if (s.model !== "indexed") {
        throw err(
          "invalid",
          "This passage has no vector for the current model yet: build the semantic index (`trove reindex`, or “Build semantic index”) first.",
        );
      }
      const want = contentWords(docText(s, id).slice(range[0], range[1]));
      const q = parseQuery(filters);
      const found: SearchHit[] = [];
      for (const it of scope(s, q)) {
        if (it.id === id) continue;
        const ix = indexed(s, it.id);
        let best: { sim: number; ci: number } | null = null;
        for (const [ci, words] of ix.words.entries()) {
          if (q.exclude.some((x) => hasPhrase(words, x))) continue;
          const shared = new Set(words.filter((w) => want.has(w))).size;
          // about the cosine of the two word sets
          const sim = shared / Math.sqrt(Math.max(1, want.size * words.length));
          if (!best || sim > best.sim) best = { sim, ci };
        }
        if (!best) continue;
        const [start, end] = ix.ranges[best.ci]!;
        const hit = hitOf(s, it, best.ci, opening(ix.text.slice(start, end)), best.sim, start);
        hit.similarity = best.sim;
        found.push(hit);
      }
      found.sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
      const anyClose = found.some((h) => h.score >= SEMANTIC_FLOOR);
      const hits = anyClose
        ? found.filter((h) => h.score >= SEMANTIC_FLOOR).slice(0, limitN)
        : found.slice(0, Math.min(limitN, NEAREST_SHOWN));
      return delay(
        { hits, mode: "semantic", notice: null, canBuildIndex: false, noCloseMatches: !anyClose && hits.length > 0 },
        40,
      );
    },

    async buildSemanticIndex(): Promise<number> {
      if (s.model === "none") throw err("invalid", "no embedding model is installed");
      s.model = "indexed";
      s.indexedModels.add(s.modelId);
      return delay(passages(s), 120);
    },

    async semanticCoverage(): Promise<Coverage | null> {
      return delay(coverage(s), 10);
    },

    async openChunk(chunkId: number): Promise<ChunkView> {
      const id = s.bySeq.get(Math.floor(chunkId / 1000));
      const it = id ? s.items.get(id) : undefined;
      if (!it || !id) throw err("not_found", "This document is no longer in your library.");
      const text = docText(s, id);
      const ch = chunksOf(text)[chunkId % 1000];
      if (!ch) throw err("not_found", "This passage no longer exists.");
      return delay({
        itemId: id,
        name: it.name,
        location: it.location,
        text,
        start: ch[0],
        end: ch[1],
        firstPage: 1,
        cutBefore: false,
        cutAfter: false,
      });
    },
  };
}

/** passages of the completed items */
function passages(s: FakeState): number {
  let n = 0;
  for (const it of s.items.values()) if (it.status === "completed") n += it.chunkCount;
  return n;
}

/** as the engine reports it: none without a model, nothing embedded before a build */
export function coverage(s: FakeState): Coverage | null {
  if (s.model === "none") return null;
  const total = passages(s);
  return { model: s.modelId, embedded: s.model === "indexed" ? total : 0, total };
}

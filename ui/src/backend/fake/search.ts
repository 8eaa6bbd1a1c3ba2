// Search commands: keyword matching over generated texts, the semantic-index
// states of `?model=`, and opening a chunk.
import type { ChunkView, Coverage, SearchHit, SearchResponse } from "../types";
import { chunksOf, docText } from "./content";
import { delay, err } from "./data";
import type { FakeState } from "./state";

/** A snippet around the first match, terms wrapped in U+0002 … U+0003 (as Rust does). */
function makeSnippet(seg: string, terms: string[], first: number): string {
  const from = Math.max(0, first - 60);
  let s = seg.slice(from, from + 160).replace(/\s+/g, " ");
  const re = new RegExp(`(${terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  s = s.replace(re, "\u0002$1\u0003");
  return (from > 0 ? "… " : "") + s + (from + 160 < seg.length ? " …" : "");
}

export function searchCommands(s: FakeState) {
  return {
    async search(query: string, limitN: number): Promise<SearchResponse> {
      const terms = [
        ...new Set(
          query
            .toLowerCase()
            .split(/[^\p{L}\p{N}]+/u)
            .filter((t) => t.length > 0),
        ),
      ];
      const hits: SearchHit[] = [];
      if (terms.length > 0) {
        for (const it of s.items.values()) {
          if (it.status !== "completed") continue;
          const text = docText(s, it.id);
          const lower = text.toLowerCase();
          const chunks = chunksOf(text);
          chunks.forEach(([start, end], ci) => {
            const seg = lower.slice(start, end);
            let score = 0;
            let first = -1;
            for (const t of terms) {
              let at = seg.indexOf(t);
              if (at >= 0 && (first < 0 || at < first)) first = at;
              while (at >= 0) {
                score += 1;
                at = seg.indexOf(t, at + t.length);
              }
            }
            if (score === 0) return;
            const m = s.meta.get(it.id)!;
            hits.push({
              itemId: it.id,
              name: it.name,
              location: it.location,
              chunkId: m.seq * 1000 + ci,
              page: it.mime === "application/pdf" ? 1 + (text.slice(0, start + first).match(/\f/g)?.length ?? 0) : null,
              pageUnit: it.mime === "application/pdf" ? "page" : null,
              snippet: makeSnippet(text.slice(start, end), terms, first),
              score: score / (1 + Math.log(1 + terms.length)),
            });
          });
        }
      }
      hits.sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
      const top = hits.slice(0, limitN);
      if (s.model === "none") {
        const notice = "Semantic search is off: no embedding model installed";
        return delay({ hits: top, mode: "keyword", notice, canBuildIndex: false }, 40);
      }
      if (s.model === "unindexed") {
        const notice = "The semantic index is empty for this model: build it to search by meaning.";
        return delay({ hits: top, mode: "hybrid", notice, canBuildIndex: true }, 40);
      }
      return delay({ hits: top, mode: "hybrid", notice: null, canBuildIndex: false }, 40);
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

// Generated files, links and document text.
import { CHUNK_CHARS, FILE_STEMS, FILE_TYPES, mulberry32, PAGE_WORDS, SITES, VOCAB, XSS_NAME, XSS_TEXT } from "./data";
import type { FakeState, ItemSpec } from "./state";

export function randomFile(s: FakeState): ItemSpec {
  const [ext, mime] = s.pick(FILE_TYPES);
  const name = `${s.pick(FILE_STEMS)} ${Math.floor(s.rand() * 900 + 100)}.${ext}`;
  return {
    kind: "file",
    name,
    location: `/home/ada/Documents/${name}`,
    mime,
    size: Math.floor(Math.exp(s.rand() * 12 + 6)),
  };
}

export function randomUrl(s: FakeState): ItemSpec {
  const w = s.pick(PAGE_WORDS);
  const url = s.pick(SITES) + w + (s.rand() < 0.5 ? "" : `-${Math.floor(s.rand() * 100)}`);
  return {
    kind: "url",
    name: s.rand() < 0.6 ? w.replace(/_/g, " ") : url,
    location: url,
    mime: "text/html",
    size: null,
  };
}

/** The item's full text (generated once, deterministically from its sequence number). */
export function docText(s: FakeState, id: string): string {
  const m = s.meta.get(id)!;
  if (m.text !== null) return m.text;
  const item = s.items.get(id)!;
  if (item.name === XSS_NAME) {
    m.text = `${XSS_TEXT} ${XSS_TEXT}`;
    return m.text;
  }
  const r = mulberry32(m.seq * 7919);
  const words = item.name
    .replace(/\.[a-z0-9]+$/i, "")
    .toLowerCase()
    .split(/\s+/);
  const paras: string[] = [];
  const n = 3 + Math.floor(r() * 4);
  for (let p = 0; p < n; p++) {
    const len = 30 + Math.floor(r() * 40);
    const ws: string[] = [];
    for (let i = 0; i < len; i++) {
      ws.push(r() < 0.08 ? words[Math.floor(r() * words.length)]! : VOCAB[Math.floor(r() * VOCAB.length)]!);
    }
    const sentence = ws.join(" ");
    paras.push(`${sentence.charAt(0).toUpperCase() + sentence.slice(1)}.`);
  }
  // A PDF's pages are separated by form feeds, as the engine stores them.
  m.text = `${item.name}\n\n${paras.join(item.mime === "application/pdf" ? "\n\f" : "\n\n")}`;
  return m.text;
}

/** Fixed-size chunk ranges of a text. */
export function chunksOf(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < text.length; s += CHUNK_CHARS) out.push([s, Math.min(text.length, s + CHUNK_CHARS)]);
  return out;
}

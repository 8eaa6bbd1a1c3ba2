// Search snippets mark matches with \u0002 (start) … \u0003 (end).

export interface SnippetPart {
  text: string;
  mark: boolean;
}

const OPEN = "\u0002";
const CLOSE = "\u0003";

/**
 * Split a snippet into plain and highlighted parts. Robust to stray or
 * unbalanced markers: a CLOSE without OPEN is dropped, an OPEN without CLOSE
 * highlights to the end, nested OPENs are flattened. Empty parts are omitted
 * and adjacent parts of the same kind are merged.
 */
export function splitSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let buf = "";
  const push = () => {
    if (buf.length === 0) return;
    const last = parts[parts.length - 1];
    if (last && last.mark === mark) last.text += buf;
    else parts.push({ text: buf, mark });
    buf = "";
  };
  for (const ch of snippet) {
    if (ch === OPEN) {
      if (!mark) {
        push();
        mark = true;
      }
    } else if (ch === CLOSE) {
      if (mark) {
        push();
        mark = false;
      }
    } else {
      // A PDF's page break (form feed) reads as a space in a one-line snippet.
      buf += ch === "\f" ? " " : ch;
    }
  }
  push();
  return parts;
}

/** Plain text of a snippet, markers removed (for aria labels). */
export function snippetPlainText(snippet: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0002/U+0003 are the snippet's match markers (from Rust)
  return snippet.replace(/[\u0002\u0003]/g, "");
}

/** Render into `parent` with text nodes and <mark>; never parses HTML. */
export function renderSnippet(parent: HTMLElement, snippet: string, doc: Document = document): void {
  parent.replaceChildren();
  for (const p of splitSnippet(snippet)) {
    if (p.mark) {
      const m = doc.createElement("mark");
      m.textContent = p.text;
      parent.appendChild(m);
    } else {
      parent.appendChild(doc.createTextNode(p.text));
    }
  }
}

/**
 * Split a document around a chunk range [start, end) given in UTF-16 code
 * units; clamps out-of-range values.
 */
export function splitAround(text: string, start: number, end: number): [string, string, string] {
  const s = Math.max(0, Math.min(text.length, Math.floor(start)));
  const e = Math.max(s, Math.min(text.length, Math.floor(end)));
  return [text.slice(0, s), text.slice(s, e), text.slice(e)];
}

// The Search view's filters (type, source, when added) as the engine's query syntax
// (`type:`, `in:`, `after:`; see trove-core's search::query). Pure: no DOM.

export type AddedRange = "" | "day" | "week" | "month" | "year";

export interface SearchFilters {
  /** a `type:` kind ("" any) */
  type: string;
  /** "" all, "file", "link", or `folder:<path>` (a watched folder) */
  source: string;
  added: AddedRange;
}

export const NO_FILTERS: SearchFilters = { type: "", source: "", added: "" };

export interface Choice {
  value: string;
  label: string;
}

/** The Type menu: engine kinds (`type:<value>`). */
export const TYPE_CHOICES: readonly Choice[] = [
  { value: "", label: "Any type" },
  { value: "pdf", label: "PDF" },
  { value: "word", label: "Word documents" },
  { value: "slides", label: "Slides" },
  { value: "sheet", label: "Spreadsheets" },
  { value: "email", label: "Email" },
  { value: "book", label: "E-books" },
  { value: "link", label: "Web pages (links)" },
  { value: "markdown", label: "Markdown" },
  { value: "text", label: "Text" },
  { value: "code", label: "Code" },
  { value: "image", label: "Images" },
];

/** The Source menu's fixed entries (watched folders follow them). */
export const SOURCE_CHOICES: readonly Choice[] = [
  { value: "", label: "All sources" },
  { value: "file", label: "Files" },
  { value: "link", label: "Links" },
];

export const ADDED_CHOICES: readonly { value: AddedRange; label: string }[] = [
  { value: "", label: "Any time" },
  { value: "day", label: "Past day" },
  { value: "week", label: "Past week" },
  { value: "month", label: "Past month" },
  { value: "year", label: "Past year" },
];

const FOLDER = "folder:";

/** The Source value of a watched folder. */
export const folderSource = (path: string): string => FOLDER + path;

/** The watched folder a Source value names, or null. */
export const sourceFolder = (source: string): string | null =>
  source.startsWith(FOLDER) ? source.slice(FOLDER.length) : null;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The first day (UTC, `YYYY-MM-DD`) a range lets in, counted back from `now`: the day
 * before for "day", 7 days for "week", the same day of the previous month (or its last
 * day: 31 March → 28/29 February) and of the previous year (29 February → 28 February).
 */
export function sinceDay(range: AddedRange, now: Date): string | null {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const lastDay = (yy: number, mm: number) => new Date(Date.UTC(yy, mm + 1, 0)).getUTCDate();
  switch (range) {
    case "":
      return null;
    case "day":
      return day(Date.UTC(y, m, d - 1));
    case "week":
      return day(Date.UTC(y, m, d - 7));
    case "month": {
      const pm = m === 0 ? 11 : m - 1;
      const py = m === 0 ? y - 1 : y;
      return day(Date.UTC(py, pm, Math.min(d, lastDay(py, pm))));
    }
    case "year":
      return day(Date.UTC(y - 1, m, Math.min(d, lastDay(y - 1, m))));
  }
}

/**
 * An `in:` token for a folder: files under it (a trailing `/`, so `/Notes` does not let in
 * `/Notes-old`), quoted when the path has spaces. A path with a double quote cannot be
 * quoted: its longest run without quotes or spaces stands in (a wider, still right, match).
 */
export function inToken(path: string): string {
  const p = path.endsWith("/") ? path : `${path}/`;
  if (!/[\s"]/.test(p)) return `in:${p}`;
  if (!p.includes('"')) return `in:"${p}"`;
  const runs = p.split(/[\s"]+/).filter((r) => r.length > 0);
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), "");
  return longest ? `in:${longest}` : "";
}

/**
 * The filters as query tokens: the Type as `type:<kind>`, Files and Links as `type:file` and
 * `type:link`, a watched folder as `in:<path>/`, Added as `after:<day>`. The engine reads a
 * kind and a source as both (`type:pdf type:link`: PDFs added as links); Type "Web pages"
 * is itself `type:link`, so Links adds nothing to it.
 */
export function filterTokens(f: SearchFilters, now: Date): string[] {
  const out: string[] = [];
  if (f.type) out.push(`type:${f.type}`);
  const folder = sourceFolder(f.source);
  if (folder !== null) {
    const t = inToken(folder);
    if (t) out.push(t);
  } else if ((f.source === "file" || f.source === "link") && f.source !== f.type) {
    out.push(`type:${f.source}`);
  }
  const since = sinceDay(f.added, now);
  if (since) out.push(`after:${since}`);
  return out;
}

/**
 * What is sent to `search`: the filters' tokens, then what was typed. Filters come first:
 * the engine cuts a long query from its end, and an unclosed quote in the text reads the
 * rest of the query as words.
 */
export function composeQuery(text: string, f: SearchFilters, now: Date): string {
  return [...filterTokens(f, now), text.trim()].filter((s) => s.length > 0).join(" ");
}

/** How many filters are set. */
export function activeFilters(f: SearchFilters): number {
  return (f.type ? 1 : 0) + (f.source ? 1 : 0) + (f.added ? 1 : 0);
}

/**
 * Type "Web pages (links)" and a file source (Files, a folder) never meet: with Files the
 * engine would read `type:link type:file` as either source, and no folder holds links.
 */
export function conflicts(type: string, source: string): boolean {
  return type === "link" && (source === "file" || sourceFolder(source) !== null);
}

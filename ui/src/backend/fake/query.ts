// The search box's small language, as the engine reads it (trove-core search::query):
// `"exact phrase"`, `prefix*`, `-word`, `-"phrase"`, `type:`, `in:`, `after:`, `before:`.
// Parsing never fails: malformed syntax reads as plain words.

/** Kinds a `type:` filter names: [names, file extensions, MIME types of links]. */
export const TYPE_GROUPS: readonly [readonly string[], readonly string[], readonly string[]][] = [
  [["pdf"], ["pdf"], ["application/pdf"]],
  [["word", "document", "documents", "doc", "docs"], ["doc", "docx", "odt", "rtf"], []],
  [["slides", "slide", "presentation", "presentations", "deck"], ["ppt", "pptx", "odp"], []],
  [["sheet", "sheets", "spreadsheet", "spreadsheets", "excel"], ["xls", "xlsx", "ods", "csv"], ["text/csv"]],
  [["email", "emails", "mail"], ["eml", "mbox"], ["message/rfc822"]],
  [["book", "books", "ebook", "epub"], ["epub"], []],
  [["html", "htm"], ["html", "htm"], ["text/html"]],
  [["markdown", "md"], ["md", "markdown"], ["text/markdown"]],
  [["text", "txt"], ["txt", "log"], ["text/plain"]],
  [["image", "images", "picture", "pictures", "photo", "photos"], ["png", "jpg", "jpeg", "tif", "tiff", "webp"], []],
  [
    ["code", "source"],
    [..."rs py js ts tsx jsx go c h cc cpp hpp java kt rb php cs swift sh sql toml yaml yml css".split(" ")],
    [],
  ],
];

/** `type:` values that mean a source rather than a format. */
export const SOURCE_LINKS = ["link", "links", "url", "urls", "web", "page", "pages", "site"];
export const SOURCE_FILES = ["file", "files"];

/** Function words left out of the keyword leg (the engine's list). */
export const STOP_WORDS = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between " +
    "both but by can could did do does doing down during each few for from further had has have having he her " +
    "here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not " +
    "now of off on once only or other our ours ourselves out over own same she should so some such than that " +
    "the their theirs them themselves then there these they this those through to too under until up very was " +
    "we were what when where which while who whom why will with would you your yours yourself yourselves"
  ).split(" "),
);

export interface Filters {
  /** `type:` values, lowercased: any of the kinds, and any of the sources (see `typesMatch`) */
  types: string[];
  /** `in:` values (any of them) */
  within: string[];
  after: string | null;
  before: string | null;
}

export interface Query {
  /** plain words, lowercased, in order (function words included) */
  words: string[];
  phrases: string[][];
  prefixes: string[];
  /** `-word` and `-"phrase"`, each as its words */
  exclude: string[][];
  filters: Filters;
}

const ALNUM = /^[\p{L}\p{N}]$/u;
const isAlnum = (c: string | undefined) => c !== undefined && ALNUM.test(c);

/** Words as the keyword index sees them: runs of letters and digits, lowercased. */
export function splitWords(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0);
}

/** A `YYYY-MM-DD` day that exists (leap years included), or null. */
export function validDay(s: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return null;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate() ? s : null;
}

type Piece = { bare: string } | { lead: string; inner: string };

function pieces(q: string): Piece[] {
  const out: Piece[] = [];
  let rest = q;
  for (;;) {
    rest = rest.trimStart();
    if (!rest) return out;
    const ws = rest.search(/\s/);
    const end = ws < 0 ? rest.length : ws;
    const open = rest.slice(0, end).indexOf('"');
    if (open >= 0) {
      const close = rest.indexOf('"', open + 1);
      if (close >= 0) {
        out.push({ lead: rest.slice(0, open), inner: rest.slice(open + 1, close) });
        rest = rest.slice(close + 1);
        continue;
      }
      out.push({ bare: rest });
      return out;
    }
    out.push({ bare: rest.slice(0, end) });
    rest = rest.slice(end);
  }
}

/** Read a query. Never fails. */
export function parseQuery(q: string): Query {
  const out: Query = {
    words: [],
    phrases: [],
    prefixes: [],
    exclude: [],
    filters: { types: [], within: [], after: null, before: null },
  };
  for (const p of pieces(q)) {
    if ("bare" in p) {
      readBare(p.bare, out);
      continue;
    }
    const words = splitWords(p.inner);
    if (p.lead === "-" && words.length > 0) out.exclude.push(words);
    else if (p.lead.toLowerCase() === "in:" && p.inner.trim()) out.filters.within.push(p.inner.trim());
    else {
      out.words.push(...splitWords(p.lead));
      if (words.length > 1) out.phrases.push(words);
      else out.words.push(...words);
    }
  }
  return out;
}

function readBare(t: string, out: Query) {
  const colon = t.indexOf(":");
  if (colon >= 0) {
    const name = t.slice(0, colon).toLowerCase();
    const value = t.slice(colon + 1).trim();
    if (name === "type" && value && [...value].every(isAlnum)) {
      out.filters.types.push(value.toLowerCase());
      return;
    }
    if (name === "in" && value) {
      out.filters.within.push(value);
      return;
    }
    if ((name === "after" || name === "before") && validDay(value)) {
      out.filters[name] = value;
      return;
    }
  }
  if (t.startsWith("-")) {
    const rest = t.slice(1);
    const words = splitWords(rest);
    if (words.length > 0 && isAlnum([...rest][0])) {
      out.exclude.push(words);
      return;
    }
  }
  if (t.endsWith("*")) {
    const stem = t.slice(0, -1);
    const words = splitWords(stem);
    if (words.length === 1 && [...words[0]!].length >= 2 && isAlnum([...stem].pop())) {
      out.prefixes.push(words[0]!);
      return;
    }
  }
  out.words.push(...splitWords(t));
}

/** No words, phrases or prefixes: only filters and exclusions. */
export const hasTerms = (q: Query) => q.words.length + q.phrases.length + q.prefixes.length > 0;

export const hasFilters = (f: Filters) =>
  f.types.length > 0 || f.within.length > 0 || f.after !== null || f.before !== null;

/** Whether an item passes a `type:` value (file by extension, link by MIME type). */
function typeMatches(t: string, it: { kind: string; name: string; mime: string | null }): boolean {
  const link = it.kind === "url";
  if (SOURCE_LINKS.includes(t)) return link;
  if (SOURCE_FILES.includes(t)) return !link;
  const group = TYPE_GROUPS.find(([names]) => names.includes(t));
  const [exts, mimes] = group ? [group[1], group[2]] : [[t], []];
  if (link) return mimes.includes((it.mime ?? "").toLowerCase());
  const name = it.name.toLowerCase();
  return exts.some((e) => name.endsWith(`.${e}`));
}

const isSource = (t: string) => SOURCE_LINKS.includes(t) || SOURCE_FILES.includes(t);

/**
 * Whether an item passes a query's `type:` values, as the engine groups them: kinds are
 * alternatives, sources are alternatives, and a kind with a source must both hold
 * (`type:pdf type:link`: PDFs added as links; `type:pdf type:word`: either).
 */
export function typesMatch(types: readonly string[], it: { kind: string; name: string; mime: string | null }): boolean {
  const sources = types.filter(isSource);
  const kinds = types.filter((t) => !isSource(t));
  return [sources, kinds].every((group) => group.length === 0 || group.some((t) => typeMatches(t, it)));
}

// Fixed vocabulary of the simulation: names, sites, error sentences, stages, the PRNG.
import type { AppError, ErrorCode } from "../types";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FILE_STEMS = [
  "Quarterly report",
  "Meeting notes",
  "Design review",
  "Invoice",
  "Research paper",
  "Onboarding guide",
  "Roadmap",
  "Budget",
  "Interview transcript",
  "Architecture decision",
  "Release checklist",
  "Customer feedback",
  "Travel itinerary",
  "Lecture slides",
  "Recipe",
  "Contract draft",
  "Thesis chapter",
  "Lab results",
  "Product spec",
  "Postmortem",
];
export const FILE_TYPES: [string, string][] = [
  ["pdf", "application/pdf"],
  ["md", "text/markdown"],
  ["txt", "text/plain"],
  ["docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["html", "text/html"],
  ["epub", "application/epub+zip"],
  ["csv", "text/csv"],
];
export const SITES = [
  "https://en.wikipedia.org/wiki/",
  "https://blog.rust-lang.org/",
  "https://developer.mozilla.org/en-US/docs/",
  "https://news.example.com/articles/",
  "https://docs.example.org/guide/",
];
export const PAGE_WORDS = [
  "Local-first_software",
  "Vector_database",
  "Tokenization",
  "Rust_2024",
  "Search_ranking",
  "WebView",
  "SQLite",
  "Embeddings",
];
export const ERRORS = [
  "The PDF is password-protected, so no text could be extracted.",
  "The server answered 404 Not Found.",
  "Timed out after 30 seconds while fetching the page.",
  "The file is not text and no extractor handles its type (application/octet-stream).",
  "The file was moved or deleted before it could be read.",
  "The page needs JavaScript to show its content; nothing readable was found.",
];
export const VOCAB = (
  "trove local first knowledge base search index chunk embedding vector query ranking document " +
  "meeting budget roadmap design review invoice contract research paper thesis lecture customer " +
  "feedback release checklist architecture decision postmortem travel recipe lab results product " +
  "spec rust sqlite tokenizer semantic keyword hybrid offline private desktop drag drop folder " +
  "report quarterly revenue growth team hiring plan risk mitigation latency throughput memory"
).split(" ");
export const FILE_STAGES: [number, string][] = [
  [0, "extracting"],
  [25, "chunking"],
  [50, "embedding"],
  [85, "indexing"],
];
export const URL_STAGES: [number, string][] = [
  [0, "fetching"],
  [30, "extracting"],
  [50, "chunking"],
  [65, "embedding"],
  [90, "indexing"],
];
export const CHUNK_CHARS = 220;

/** Escaped-looking but harmless strings used by the XSS tests. */
export const XSS_NAME = '<img src=x onerror="window.__pwned=1">';
export const XSS_TEXT =
  "Security probe: <script>window.__pwned=1</script> this paragraph tests that snippets are shown as text. " +
  '<img src=x onerror="window.__pwned=1"> The probe word is xylophone.';

/** A rejection as Rust sends it; `code` is one of the generated ERROR_CODES. */
export function err(code: ErrorCode, message: string): AppError {
  return { code, message };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Resolve after `ms`, like an IPC round trip. */
export const delay = <T>(v: T, ms = 30): Promise<T> => new Promise((res) => setTimeout(() => res(v), ms));

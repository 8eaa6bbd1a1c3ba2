// Pure formatting helpers (unit-tested).
import type { Item, Status } from "../backend/types";

const UNITS = ["KB", "MB", "GB", "TB"];
const STEP = 1024;
/**
 * The number in front of a unit: at most one decimal, no ".0", and no thousands separator,
 * because Rust's human_size prints none ("1023 bytes", "5000 TB"); the UI shows the same text.
 */
const UNIT_NUMBER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, useGrouping: false });

/**
 * Byte counts the way Trove writes them everywhere (trove_common::size::human_size):
 * binary multiples written KB/MB/GB/TB; exact below 1 KB; one decimal below 10 (dropped
 * when .0), whole numbers from 10. 1536 → "1.5 KB". null → "—"
 */
export function humanSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes === 1) return "1 byte";
  if (bytes < STEP) return `${bytes} bytes`;
  let v = bytes / STEP;
  let u = 0;
  for (;;) {
    // rounded as it will be printed (tenths below 10), so 1023.96 KB moves to "1 MB"
    const shown = v < 10 ? Math.round(v * 10) / 10 : Math.round(v);
    if (shown >= STEP && u + 1 < UNITS.length) {
      v /= STEP;
      u += 1;
      continue;
    }
    return `${UNIT_NUMBER.format(shown)} ${UNITS[u]}`;
  }
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const DATE = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

/**
 * "just now" (under 45 s, and for times in the future), "5 minutes ago", "3 hours ago",
 * "yesterday" (24–48 h ago), "4 days ago"; from 30 days on, the date.
 */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const d = now - t;
  if (d < 45_000) return "just now";
  const minutes = Math.max(1, Math.round(d / MIN));
  if (minutes < 60) return RELATIVE.format(-minutes, "minute");
  const hours = Math.max(1, Math.round(d / HOUR));
  if (hours < 24) return RELATIVE.format(-hours, "hour");
  if (d < 30 * DAY) return RELATIVE.format(-Math.max(1, Math.floor(d / DAY)), "day");
  return DATE.format(t);
}

/** Full local date and time, for hover and screen readers. */
export function absoluteTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toLocaleString(undefined, {
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

const MIME_LABELS: Record<string, string> = {
  "application/pdf": "PDF",
  "text/markdown": "Markdown",
  "text/plain": "Text",
  "text/html": "HTML",
  "text/csv": "CSV",
  "application/epub+zip": "EPUB",
  "application/json": "JSON",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
  "application/msword": "Word",
  "application/vnd.oasis.opendocument.text": "OpenDocument",
  "application/rtf": "RTF",
};

/** Short human type: "PDF", "Markdown", "Web page", "File". */
export function kindLabel(item: Pick<Item, "kind" | "mime" | "name">): string {
  if (item.kind === "url") return "Web page";
  if (item.mime && MIME_LABELS[item.mime]) return MIME_LABELS[item.mime]!;
  const ext = /\.([a-z0-9]{1,8})$/i.exec(item.name)?.[1];
  if (ext) return ext.toUpperCase();
  if (item.mime) return item.mime.split("/")[1]?.toUpperCase() ?? "File";
  return "File";
}

export const STATUS_LABEL: Record<Status, string> = {
  pending: "Pending",
  processing: "Processing…",
  completed: "Completed",
  failed: "Failed",
};

/** "1 chunk", "184 chunks" */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** Badge text for a row (what a sighted user reads). */
export function badgeText(item: Item): string {
  switch (item.status) {
    case "pending":
      return "Pending";
    case "processing":
      return `Processing… ${clampPct(item.progress)}%`;
    case "completed":
      return `Completed · ${plural(item.chunkCount, "chunk")}`;
    case "failed":
      return "Failed";
  }
}

export function clampPct(p: number): number {
  if (!Number.isFinite(p)) return 0;
  return Math.max(0, Math.min(100, Math.round(p)));
}

/** "extracting" → "Extracting" */
export function stageLabel(stage: string | null): string {
  if (!stage) return "";
  return stage.charAt(0).toUpperCase() + stage.slice(1);
}

/** Split a pasted block into URL candidates: one per line or space separated. */
export function parseUrlList(text: string): string[] {
  return text
    .split(/\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** "2 min", "1 h 5 min" */
export function minutesLabel(min: number): string {
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** How each kind of file a watched folder leaves out is named (trove_core::library::folders). */
const SKIPPED_KINDS: Record<string, [string, string]> = {
  images: ["image", "images"],
  videos: ["video", "videos"],
  audio: ["audio file", "audio files"],
  archives: ["archive", "archives"],
  empty: ["empty file", "empty files"],
  unreadable: ["unreadable file", "unreadable files"],
  other: ["other file", "other files"],
};

/** {"images": 214, "empty": 1} → "214 images, 1 empty file skipped" (most first); "" for none. */
export function skippedSummary(skipped: Record<string, number>): string {
  const parts = Object.entries(skipped)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([kind, n]) => {
      const names = SKIPPED_KINDS[kind];
      return names ? plural(n, names[0], names[1]) : `${n.toLocaleString("en-US")} ${kind}`;
    });
  return parts.length ? `${parts.join(", ")} skipped` : "";
}

/**
 * What a rescan did: "3 added, 1 changed, 2 removed, 1 missing (kept)", or "no changes".
 * `missing`: items of deleted files kept (the keep-missing setting), also those missing before.
 */
export function scanSummary(r: {
  added: number;
  changed: number;
  removed: number;
  missing: number;
  renamed: number;
  busy: number;
}): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const parts: string[] = [];
  if (r.added) parts.push(`${n(r.added)} added`);
  if (r.changed) parts.push(`${n(r.changed)} changed`);
  if (r.removed) parts.push(`${n(r.removed)} removed`);
  if (r.missing) parts.push(`${n(r.missing)} missing (kept)`);
  if (r.renamed) parts.push(`${n(r.renamed)} moved or renamed`);
  if (r.busy) parts.push(`${n(r.busy)} being processed (looked at again later)`);
  return parts.length ? parts.join(", ") : "no changes";
}

/** A watched folder's state as the Folders panel shows it (paused wins: nothing is followed). */
export function folderStateLabel(f: { watching: boolean; state: string }): {
  key: "watching" | "paused" | "unavailable" | "polling";
  text: string;
} {
  if (!f.watching) return { key: "paused", text: "paused" };
  if (f.state === "unavailable") return { key: "unavailable", text: "unavailable" };
  if (f.state === "polling") return { key: "polling", text: "checking every minute" };
  return { key: "watching", text: "watching" };
}

const LONG_DATE = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });

/**
 * An item whose file was deleted from a watched folder and kept (the keep-missing setting):
 * "The file was deleted on November 28, 2026; its text is kept".
 */
export function missingText(since: string): string {
  const t = Date.parse(since);
  return `The file was deleted on ${Number.isNaN(t) ? since : LONG_DATE.format(t)}; its text is kept`;
}

/**
 * A watched folder's include or exclude patterns as typed: one per line or separated by
 * commas, blanks dropped, each once. A comma inside {…} or […] belongs to the pattern
 * (`*.{md,txt}`).
 */
export function parseGlobList(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let braces = 0;
  let bracket = false;
  const flush = () => {
    const g = cur.trim();
    if (g && !out.includes(g)) out.push(g);
    cur = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (c === "\n" || c === "\r" || (c === "," && braces === 0 && !bracket)) {
      flush();
      continue;
    }
    if (bracket) {
      if (c === "]") bracket = false;
    } else if (c === "[") bracket = true;
    else if (c === "{") braces += 1;
    else if (c === "}" && braces > 0) braces -= 1;
    cur += c;
  }
  flush();
  return out;
}

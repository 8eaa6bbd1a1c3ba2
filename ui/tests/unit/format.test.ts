import { describe, expect, it } from "vitest";
import type { Item } from "../../src/backend/types";
import {
  badgeText,
  clampPct,
  folderStateLabel,
  humanSize,
  kindLabel,
  minutesLabel,
  missingText,
  parseGlobList,
  parseUrlList,
  plural,
  relativeTime,
  scanSummary,
  skippedSummary,
} from "../../src/lib/format";

const NOW = Date.parse("2026-11-28T12:00:00Z");

function item(p: Partial<Item>): Item {
  return {
    id: "f1",
    kind: "file",
    name: "a.pdf",
    location: "/a.pdf",
    mime: "application/pdf",
    size: 10,
    status: "pending",
    progress: 0,
    stage: null,
    error: null,
    jobId: null,
    attempts: 0,
    maxAttempts: 3,
    chunkCount: 0,
    duplicateOf: null,
    addedAt: "2026-11-28T11:00:00Z",
    updatedAt: "2026-11-28T11:00:00Z",
    extractor: null,
    missingSince: null,
    metadata: [],
    ...p,
  };
}

describe("humanSize", () => {
  it("formats bytes", () => {
    // the same convention as trove_common::size::human_size (Rust)
    expect(humanSize(0)).toBe("0 bytes");
    expect(humanSize(1)).toBe("1 byte");
    expect(humanSize(17)).toBe("17 bytes");
    expect(humanSize(1023)).toBe("1023 bytes");
    expect(humanSize(1024)).toBe("1 KB");
    expect(humanSize(1536)).toBe("1.5 KB");
    expect(humanSize(12_044)).toBe("12 KB");
    expect(humanSize(2_480_133)).toBe("2.4 MB");
    expect(humanSize(1024 * 1024 - 1)).toBe("1 MB");
    expect(humanSize(256 * 1024 * 1024)).toBe("256 MB");
    expect(humanSize(5 * 1024 ** 4)).toBe("5 TB");
  });
  it("rounds like Rust: one decimal below 10, none from 10, .0 dropped, 1024 moves up a unit", () => {
    // the cases of size.rs's `rounding` and `binary_units_written_kb_mb_gb` tests
    expect(humanSize(10 * 1024 + 900)).toBe("11 KB");
    expect(humanSize(1234 * 1024)).toBe("1.2 MB");
    expect(humanSize(1024 + 10)).toBe("1 KB");
    expect(humanSize(9 * 1024 + 1000)).toBe("10 KB");
    expect(humanSize(1024 ** 3 - 1024)).toBe("1 GB");
    expect(humanSize((5 * 1024 ** 3) / 2)).toBe("2.5 GB");
  });
  it("writes no thousands separator, as Rust's human_size does not", () => {
    expect(humanSize(5000 * 1024 ** 4)).toBe("5000 TB");
    // u64::MAX in Rust ("16777216 TB"); 2^64 is the nearest double
    expect(humanSize(2 ** 64)).toBe("16777216 TB");
  });
  it("handles missing values", () => {
    expect(humanSize(null)).toBe("—");
    expect(humanSize(undefined)).toBe("—");
    expect(humanSize(-1)).toBe("—");
    expect(humanSize(Number.NaN)).toBe("—");
  });
});

describe("relativeTime", () => {
  const ago = (ms: number) => new Date(NOW - ms).toISOString();
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  it("says how long ago in words (Intl.RelativeTimeFormat, en)", () => {
    expect(relativeTime(ago(5_000), NOW)).toBe("just now");
    expect(relativeTime(ago(44_999), NOW)).toBe("just now");
    expect(relativeTime(ago(45_000), NOW)).toBe("1 minute ago");
    expect(relativeTime(ago(5 * MIN), NOW)).toBe("5 minutes ago");
    expect(relativeTime(ago(59 * MIN), NOW)).toBe("59 minutes ago");
    expect(relativeTime(ago(59.6 * MIN), NOW)).toBe("1 hour ago");
    expect(relativeTime(ago(3 * HOUR), NOW)).toBe("3 hours ago");
    expect(relativeTime(ago(23 * HOUR), NOW)).toBe("23 hours ago");
    expect(relativeTime(ago(30 * HOUR), NOW)).toBe("yesterday");
    expect(relativeTime(ago(47 * HOUR), NOW)).toBe("yesterday");
    expect(relativeTime(ago(2 * DAY), NOW)).toBe("2 days ago");
    expect(relativeTime(ago(4 * DAY), NOW)).toBe("4 days ago");
    expect(relativeTime(ago(29.9 * DAY), NOW)).toBe("29 days ago");
  });
  it("from 30 days on, a date in the user's locale", () => {
    const t = NOW - 90 * DAY;
    const date = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" }).format(t);
    expect(relativeTime(ago(90 * DAY), NOW)).toBe(date);
    expect(relativeTime(ago(90 * DAY), NOW)).toMatch(/2026/);
    expect(relativeTime(ago(30 * DAY), NOW)).not.toMatch(/ago/);
  });
  it("future times (clock skew) read as just now", () => {
    expect(relativeTime(new Date(NOW + 60_000).toISOString(), NOW)).toBe("just now");
  });
  it("bad input", () => {
    expect(relativeTime("nope", NOW)).toBe("—");
  });
});

describe("labels", () => {
  it("kindLabel", () => {
    expect(kindLabel({ kind: "url", mime: "text/html", name: "x" })).toBe("Web page");
    expect(kindLabel({ kind: "file", mime: "application/pdf", name: "x" })).toBe("PDF");
    expect(kindLabel({ kind: "file", mime: null, name: "notes.org" })).toBe("ORG");
    expect(kindLabel({ kind: "file", mime: null, name: "README" })).toBe("File");
  });
  it("badgeText for all states", () => {
    expect(badgeText(item({ status: "pending" }))).toBe("Pending");
    expect(badgeText(item({ status: "processing", progress: 41.6 }))).toBe("Processing… 42%");
    expect(badgeText(item({ status: "completed", chunkCount: 1 }))).toBe("Completed · 1 chunk");
    expect(badgeText(item({ status: "completed", chunkCount: 1840 }))).toBe("Completed · 1,840 chunks");
    expect(badgeText(item({ status: "failed" }))).toBe("Failed");
  });
  it("clampPct", () => {
    expect(clampPct(-3)).toBe(0);
    expect(clampPct(150)).toBe(100);
    expect(clampPct(Number.NaN)).toBe(0);
  });
  it("plural and minutes", () => {
    expect(plural(1, "item")).toBe("1 item");
    expect(plural(2, "address", "addresses")).toBe("2 addresses");
    expect(minutesLabel(12)).toBe("12 min");
    expect(minutesLabel(60)).toBe("1 h");
    expect(minutesLabel(75)).toBe("1 h 15 min");
  });
});

describe("parseUrlList", () => {
  it("splits on lines and spaces", () => {
    expect(parseUrlList(" https://a.example/x\nhttps://b.example  https://c.example\r\n\n\tftp://d ")).toEqual([
      "https://a.example/x",
      "https://b.example",
      "https://c.example",
      "ftp://d",
    ]);
    expect(parseUrlList("   \n ")).toEqual([]);
  });
});

describe("watched folders", () => {
  it("summarises what a folder left out, most first, in words", () => {
    expect(skippedSummary({ empty: 1, images: 214 })).toBe("214 images, 1 empty file skipped");
    expect(skippedSummary({ images: 1 })).toBe("1 image skipped");
    expect(skippedSummary({ archives: 2, videos: 2, audio: 1, unreadable: 3, other: 1200 })).toBe(
      "1,200 other files, 3 unreadable files, 2 archives, 2 videos, 1 audio file skipped",
    );
    expect(skippedSummary({ fonts: 2 })).toBe("2 fonts skipped");
    expect(skippedSummary({})).toBe("");
    expect(skippedSummary({ images: 0 })).toBe("");
  });
  it("summarises a rescan", () => {
    const none = { added: 0, changed: 0, removed: 0, missing: 0, renamed: 0, busy: 0 };
    expect(scanSummary(none)).toBe("no changes");
    expect(scanSummary({ ...none, added: 3, changed: 1, removed: 2 })).toBe("3 added, 1 changed, 2 removed");
    expect(scanSummary({ ...none, renamed: 1, busy: 2 })).toBe(
      "1 moved or renamed, 2 being processed (looked at again later)",
    );
    expect(scanSummary({ ...none, added: 1500 })).toBe("1,500 added");
    // items of deleted files kept (keep-missing): said, also when nothing else changed
    expect(scanSummary({ ...none, removed: 1, missing: 2 })).toBe("1 removed, 2 missing (kept)");
    expect(scanSummary({ ...none, missing: 1 })).toBe("1 missing (kept)");
  });
  it("reads include/exclude patterns separated by commas or lines; braces keep their commas", () => {
    expect(parseGlobList("*.md, *.txt")).toEqual(["*.md", "*.txt"]);
    expect(parseGlobList("drafts/**\n\n  *.tmp ,\r\nbuild/")).toEqual(["drafts/**", "*.tmp", "build/"]);
    expect(parseGlobList("*.{md,txt}, notes/[a,b]*")).toEqual(["*.{md,txt}", "notes/[a,b]*"]);
    expect(parseGlobList("*.md,*.md, ,")).toEqual(["*.md"]);
    expect(parseGlobList("  ")).toEqual([]);
  });
  it("says when a missing item's file was deleted", () => {
    const text = missingText("2026-11-28T11:00:00Z");
    expect(text).toMatch(/^The file was deleted on .*2026; its text is kept$/);
    expect(text).toContain("28");
    expect(missingText("not a date")).toBe("The file was deleted on not a date; its text is kept");
  });
  it("names a folder's state; paused wins", () => {
    expect(folderStateLabel({ watching: true, state: "ok" })).toEqual({ key: "watching", text: "watching" });
    expect(folderStateLabel({ watching: true, state: "polling" }).text).toBe("checking every minute");
    expect(folderStateLabel({ watching: true, state: "unavailable" }).text).toBe("unavailable");
    expect(folderStateLabel({ watching: false, state: "unavailable" }).key).toBe("paused");
  });
});

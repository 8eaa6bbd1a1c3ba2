// The Search view's filters as the engine's query syntax: tokens, the date each "Added"
// range starts on (UTC), folder paths as `in:`, and which pairs cannot meet.
import { describe, expect, it } from "vitest";
import { parseQuery } from "../../src/backend/fake/query";
import {
  ADDED_CHOICES,
  activeFilters,
  composeQuery,
  conflicts,
  filterTokens,
  folderSource,
  inToken,
  NO_FILTERS,
  type SearchFilters,
  sinceDay,
  sourceFolder,
  TYPE_CHOICES,
} from "../../src/lib/search-filters";

const NOW = new Date("2026-03-31T23:30:00Z");
const f = (p: Partial<SearchFilters>): SearchFilters => ({ ...NO_FILTERS, ...p });

describe("sinceDay", () => {
  it("counts back from today in UTC", () => {
    expect(sinceDay("", NOW)).toBeNull();
    expect(sinceDay("day", NOW)).toBe("2026-03-30");
    expect(sinceDay("week", NOW)).toBe("2026-03-24");
    // 31 March → the last day of February (not 3 March)
    expect(sinceDay("month", NOW)).toBe("2026-02-28");
    expect(sinceDay("year", NOW)).toBe("2025-03-31");
  });

  it("uses the UTC day, whatever the local time zone says", () => {
    // 00:30 UTC on 1 January: yesterday is in the previous year
    const newYear = new Date("2027-01-01T00:30:00Z");
    expect(sinceDay("day", newYear)).toBe("2026-12-31");
    expect(sinceDay("week", newYear)).toBe("2026-12-25");
    expect(sinceDay("month", newYear)).toBe("2026-12-01");
  });

  it("handles leap days", () => {
    expect(sinceDay("year", new Date("2028-02-29T12:00:00Z"))).toBe("2027-02-28");
    expect(sinceDay("month", new Date("2028-03-30T12:00:00Z"))).toBe("2028-02-29");
    expect(sinceDay("day", new Date("2028-03-01T12:00:00Z"))).toBe("2028-02-29");
  });

  it("every range the menu offers gives a day the engine accepts", () => {
    for (const c of ADDED_CHOICES) {
      const d = sinceDay(c.value, NOW);
      if (c.value === "") expect(d).toBeNull();
      else expect(parseQuery(`after:${d}`).filters.after).toBe(d);
    }
  });
});

describe("inToken", () => {
  it("is the folder with a trailing slash, quoted when it has spaces", () => {
    expect(inToken("/home/ada/Notes")).toBe("in:/home/ada/Notes/");
    expect(inToken("/home/ada/Notes/")).toBe("in:/home/ada/Notes/");
    expect(inToken("/home/ada/My Notes")).toBe('in:"/home/ada/My Notes/"');
  });

  it("a path with a double quote stands in by its longest plain run", () => {
    expect(inToken('/home/ada/say "hi" there')).toBe("in:/home/ada/say");
  });

  it("reads back as the engine reads it", () => {
    for (const p of ["/home/ada/Notes", "/home/ada/My Notes", "/srv/data:2026"]) {
      const q = parseQuery(`${inToken(p)} heron`);
      expect(q.filters.within).toEqual([p.endsWith("/") ? p : `${p}/`]);
      expect(q.words).toEqual(["heron"]);
    }
  });
});

describe("filterTokens and composeQuery", () => {
  it("nothing set: the text as typed", () => {
    expect(filterTokens(NO_FILTERS, NOW)).toEqual([]);
    expect(composeQuery("  heron marsh ", NO_FILTERS, NOW)).toBe("heron marsh");
    expect(composeQuery("", NO_FILTERS, NOW)).toBe("");
  });

  it("each filter alone", () => {
    expect(filterTokens(f({ type: "pdf" }), NOW)).toEqual(["type:pdf"]);
    expect(filterTokens(f({ source: "file" }), NOW)).toEqual(["type:file"]);
    expect(filterTokens(f({ source: "link" }), NOW)).toEqual(["type:link"]);
    expect(filterTokens(f({ source: folderSource("/home/ada/Notes") }), NOW)).toEqual(["in:/home/ada/Notes/"]);
    expect(filterTokens(f({ added: "week" }), NOW)).toEqual(["after:2026-03-24"]);
  });

  it("a type and a source are both sent: the engine reads a kind with a source as both", () => {
    expect(filterTokens(f({ type: "pdf", source: "file" }), NOW)).toEqual(["type:pdf", "type:file"]);
    expect(filterTokens(f({ type: "pdf", source: "link" }), NOW)).toEqual(["type:pdf", "type:link"]);
    // Web pages is the links source itself: not said twice
    expect(filterTokens(f({ type: "link", source: "link" }), NOW)).toEqual(["type:link"]);
    const q = parseQuery(composeQuery("heron", f({ type: "pdf", source: "file" }), NOW));
    expect(q.filters.types).toEqual(["pdf", "file"]);
    expect(q.filters.within).toEqual([]);
    expect(q.words).toEqual(["heron"]);
  });

  it("filters come first, so an unclosed quote or a long text cannot swallow them", () => {
    const all = f({ type: "slides", source: folderSource("/home/ada/My Notes"), added: "month" });
    const sent = composeQuery('"tidal marsh', all, NOW);
    expect(sent).toBe('type:slides in:"/home/ada/My Notes/" after:2026-02-28 "tidal marsh');
    const q = parseQuery(sent);
    expect(q.filters).toEqual({
      types: ["slides"],
      within: ["/home/ada/My Notes/"],
      after: "2026-02-28",
      before: null,
    });
    expect(q.words).toEqual(["tidal", "marsh"]);
  });

  it("a filter alone is a query (a listing)", () => {
    expect(composeQuery("", f({ type: "code" }), NOW)).toBe("type:code");
  });

  it("every Type is a kind the engine knows", () => {
    for (const c of TYPE_CHOICES) {
      if (!c.value) continue;
      expect(parseQuery(composeQuery("", f({ type: c.value }), NOW)).filters.types).toEqual([c.value]);
    }
  });
});

describe("the rest", () => {
  it("counts the filters set and spots impossible pairs", () => {
    expect(activeFilters(NO_FILTERS)).toBe(0);
    expect(activeFilters(f({ type: "pdf", added: "day" }))).toBe(2);
    expect(conflicts("link", "file")).toBe(true);
    expect(conflicts("link", folderSource("/a"))).toBe(true);
    expect(conflicts("link", "link")).toBe(false);
    expect(conflicts("pdf", "file")).toBe(false);
    expect(conflicts("", folderSource("/a"))).toBe(false);
  });

  it("folder sources round-trip", () => {
    expect(sourceFolder(folderSource("/home/ada/My Notes"))).toBe("/home/ada/My Notes");
    expect(sourceFolder("file")).toBeNull();
  });
});

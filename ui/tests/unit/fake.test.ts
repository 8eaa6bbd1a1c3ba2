import { describe, expect, it } from "vitest";
import { createFakeBackend, fakeOptionsFromQuery } from "../../src/backend/fake";
import { parseQuery, typesMatch } from "../../src/backend/fake/query";
import type { AppError, AskEvent, AskTurn, DropOutcome, EngineEvent } from "../../src/backend/types";
import { ERROR_CODES, LIMITS } from "../../src/backend/types";
import { citedIn } from "../../src/lib/ask";
import { composeQuery, NO_FILTERS } from "../../src/lib/search-filters";
import { splitSnippet } from "../../src/lib/snippet";
import { binDurations, medianSeconds } from "../../src/ui/chart";

describe("fake backend", () => {
  it("parses query options", () => {
    expect(fakeOptionsFromQuery("?fake=seed-10000&speed=0").seed).toBe(10000);
    expect(fakeOptionsFromQuery("?fake=states").seed).toBe("states");
    expect(fakeOptionsFromQuery("?fake=seed-5&speed=0").speed).toBe(0);
    expect(fakeOptionsFromQuery("").seed).toBe("empty");
  });

  it("seeds all four states and walks an item to completion when stepped", async () => {
    const b = createFakeBackend({ seed: "states", speed: 0 });
    const items = await b.listItems(null);
    expect(new Set(items.map((i) => i.status))).toEqual(new Set(["pending", "processing", "completed", "failed"]));
    // newest first
    const times = items.map((i) => i.addedAt);
    expect(times).toEqual([...times].sort().reverse());
    const events: EngineEvent[] = [];
    b.onEvents((batch) => events.push(...batch));
    const failed = items.find((i) => i.status === "failed")!;
    const r = await b.retryItem(failed.id);
    expect(r.status).toBe("pending");
    b.hooks.configure({ failRate: 0 });
    b.hooks.step(200);
    await new Promise((ok) => setTimeout(ok, 50));
    const after = (await b.listItems(null)).find((i) => i.id === failed.id)!;
    expect(["completed", "failed"]).toContain(after.status);
    expect(events.some((e) => e.type === "batchFinished")).toBe(true);
    await expect(b.retryItem("zzz")).rejects.toMatchObject({ code: "not_found", message: expect.any(String) });
    const done = (await b.listItems("completed"))[0]!;
    await expect(b.retryItem(done.id)).rejects.toMatchObject({ code: "conflict" });
  });

  it("validates URLs and reports skipped ones", async () => {
    const b = createFakeBackend({ speed: 0 });
    const r = await b.addUrls(["https://a.example/x", "not a url", "ftp://x.example", "https://a.example/x"]);
    expect(r.added.map((i) => i.location)).toEqual(["https://a.example/x"]);
    expect(r.skipped.map((s) => s.input)).toEqual(["not a url", "ftp://x.example", "https://a.example/x"]);
  });

  it("takes its concurrency limits from the generated LIMITS, rejecting like the engine", async () => {
    const b = createFakeBackend({ speed: 0 });
    const { concurrencyMin: min, concurrencyMax: max } = LIMITS;
    for (const bad of [min - 1, max + 1, 2.5, Number.NaN]) {
      await expect(b.setConcurrency(bad)).rejects.toMatchObject({ code: "invalid" });
    }
    expect((await b.setConcurrency(max)).concurrency).toBe(max);
    expect((await b.setConcurrency(min)).concurrency).toBe(min);
    expect(fakeOptionsFromQuery(`?concurrency=${max}`).concurrency).toBe(max);
    expect(fakeOptionsFromQuery(`?concurrency=${max + 1}`).concurrency).toBe(3);
  });

  it("rejects only with error codes Rust sends", async () => {
    const b = createFakeBackend({ seed: "states", speed: 0 });
    const done = (await b.listItems("completed"))[0]!;
    const rejections = [
      b.retryItem("zzz"),
      b.retryItem(done.id),
      b.deleteItem("zzz"),
      b.setConcurrency(0),
      b.openChunk(999_999),
      b.buildSemanticIndex(),
    ];
    for (const p of rejections) {
      const e = (await p.then(
        () => null,
        (x: unknown) => x,
      )) as AppError | null;
      expect(e, "rejects").not.toBeNull();
      expect(ERROR_CODES).toContain(e!.code);
    }
  });

  it("reports a drop like the dialogs: added items, skipped inputs with reasons, or an error", async () => {
    const b = createFakeBackend({ speed: 0 });
    const outcomes: DropOutcome[] = [];
    const drags: string[] = [];
    b.onDropped((o) => outcomes.push(o));
    b.onDragState((s) => drags.push(s.state));
    const ids = b.hooks.drop(2, { skipped: [{ input: "/home/ada/fifo", reason: "not a regular file or folder" }] });
    expect(ids).toHaveLength(2);
    expect(drags).toEqual(["drop"]);
    await new Promise((ok) => setTimeout(ok, 10));
    expect(outcomes).toHaveLength(1);
    const o = outcomes[0]!;
    if (o.type !== "added") throw new Error("expected an added report");
    expect(o.report.added.map((i) => i.id)).toEqual(ids);
    expect(o.report.skipped).toEqual([{ input: "/home/ada/fifo", reason: "not a regular file or folder" }]);

    b.hooks.drop(0, { error: { code: "database", message: "The library database is not available." } });
    await new Promise((ok) => setTimeout(ok, 10));
    expect(outcomes[1]).toEqual({
      type: "failed",
      error: { code: "database", message: "The library database is not available." },
    });
  });

  it("search returns marked snippets and openChunk gives the range", async () => {
    const b = createFakeBackend({ seed: "states", speed: 0 });
    const res = await b.search("xylophone", 10);
    expect(res.hits.length).toBeGreaterThan(0);
    expect(res.hits[0]!.snippet).toContain("\u0002xylophone\u0003");
    const v = await b.openChunk(res.hits[0]!.chunkId);
    expect(v.end).toBeGreaterThan(v.start);
    expect(v.text.length).toBeGreaterThanOrEqual(v.end);
  });
});

describe("fake watched folders", () => {
  const settle = () => new Promise((ok) => setTimeout(ok, 10));

  it("the folder dialog watches what it picks and reports it like Rust's add_folder_dialog", async () => {
    const b = createFakeBackend({ speed: 0 });
    const r = await b.addFolderDialog();
    expect(b.hooks.dialogs()).toEqual(["folder"]);
    expect(r.added).toHaveLength(12);
    for (const it of r.added) expect(it.location.startsWith("/home/ada/Documents/Projects/")).toBe(true);
    expect(new Set(r.added.map((i) => i.location)).size).toBe(12);
    expect(r.skipped).toEqual([
      {
        input: "/home/ada/Documents/Projects",
        reason: "watched; left out 1 empty, 214 images (files Trove does not read)",
      },
    ]);
    const [f] = await b.listFolders();
    expect(f).toMatchObject({
      id: 1,
      path: "/home/ada/Documents/Projects",
      include: [],
      exclude: [],
      watching: true,
      state: "ok",
      message: null,
      files: 12,
      skipped: { empty: 1, images: 214 },
    });
    expect(Date.parse(f!.lastScan!)).toBeGreaterThan(0);
    // the next pick is another folder
    expect((await b.addFolderDialog()).added).toHaveLength(8);
    expect((await b.listFolders()).map((x) => x.path)).toEqual(["/home/ada/Documents/Projects", "/home/ada/Notes"]);
  });

  it("add_folder checks the path like the engine", async () => {
    const b = createFakeBackend({ speed: 0 });
    const r = await b.addFolder("/home/ada/Papers/", ["*.pdf"], ["drafts/**"]);
    expect(r).toMatchObject({ folder: 1, added: 5, changed: 0, removed: 0, unavailable: false });
    expect(r.skipped).toEqual({ archives: 2, videos: 1 });
    expect((await b.listFolders())[0]).toMatchObject({
      path: "/home/ada/Papers",
      include: ["*.pdf"],
      exclude: ["drafts/**"],
    });
    const rejected = [
      b.addFolder("/home/ada/Papers", [], []),
      b.addFolder("relative/dir", [], []),
      b.addFolder("/home/you/.local/share/trove/sub", [], []),
      b.rescanFolder(99),
      b.removeFolder(99, false),
      b.setFolderWatching(99, false),
    ];
    const codes: string[] = [];
    for (const p of rejected) codes.push(((await p.then(null, (e: unknown) => e)) as AppError).code);
    expect(codes).toEqual(["conflict", "invalid", "invalid", "not_found", "not_found", "not_found"]);
    for (const c of codes) expect(ERROR_CODES).toContain(c);
    await expect(b.addFolder("/home/ada/Papers", [], [])).rejects.toEqual({
      code: "conflict",
      message: "/home/ada/Papers is already watched (folder 1)",
    });
  });

  it("a rescan applies what changed on disk; an unavailable folder changes nothing", async () => {
    const b = createFakeBackend({ speed: 0 });
    await b.addFolderDialog();
    const none = await b.rescanFolder(1);
    expect(none).toMatchObject({ added: 0, changed: 0, removed: 0, renamed: 0, unchanged: 12, unavailable: false });
    const events: EngineEvent[] = [];
    b.onEvents((batch) => events.push(...batch));
    b.hooks.changeFolder(1, { added: 3, changed: 1, removed: 2, renamed: 1 });
    const r = await b.rescanFolder(1);
    expect(r).toMatchObject({ added: 3, changed: 1, removed: 2, renamed: 1, unchanged: 8, busy: 0 });
    await settle();
    expect(events.filter((e) => e.type === "itemAdded")).toHaveLength(3);
    expect(events.filter((e) => e.type === "itemDeleted")).toHaveLength(2);
    expect(b.hooks.folders()[0]!.files).toBe(13);
    expect(b.hooks.count()).toBe(13);

    b.hooks.setFolderState(1, "unavailable");
    b.hooks.changeFolder(1, { removed: 5 });
    const gone = await b.rescanFolder(1);
    expect(gone).toMatchObject({ unavailable: true, added: 0, removed: 0 });
    expect(b.hooks.folders()[0]).toMatchObject({
      state: "unavailable",
      files: 13,
      message:
        "/home/ada/Documents/Projects is not there (an unplugged drive, or moved or deleted?); its items are kept until it is back",
    });
    b.hooks.setFolderState(1, "ok");
    expect((await b.rescanFolder(1)).removed).toBe(5);
    expect(b.hooks.folders()[0]).toMatchObject({ state: "ok", message: null, files: 8 });

    b.hooks.setFolderState(1, "polling", "checking every minute instead");
    expect(b.hooks.folders()[0]).toMatchObject({ state: "polling", message: "checking every minute instead" });
  });

  it("pauses, resumes, and removes a folder with or without its items", async () => {
    const b = createFakeBackend({ speed: 0 });
    await b.addFolderDialog();
    await b.addFolderDialog();
    expect(b.hooks.count()).toBe(20);
    expect(await b.setFolderWatching(1, false)).toMatchObject({ id: 1, watching: false });
    expect((await b.listFolders())[0]!.watching).toBe(false);
    expect((await b.setFolderWatching(1, true)).watching).toBe(true);
    await b.removeFolder(2, true);
    expect(b.hooks.count()).toBe(20);
    await b.removeFolder(1, false);
    expect(b.hooks.count()).toBe(8);
    expect(await b.listFolders()).toEqual([]);
  });
});

describe("fake folder rules, folder-sync and missing files", () => {
  const settle = () => new Promise((ok) => setTimeout(ok, 10));
  const locations = async (b: ReturnType<typeof createFakeBackend>) =>
    (await b.listItems(null)).map((i) => i.location).sort();

  it("new rules remove the items of files they leave out and add those they let in", async () => {
    const b = createFakeBackend({ speed: 0 });
    await b.addFolderDialog();
    const all = await locations(b);
    expect(all).toHaveLength(12);
    expect(b.hooks.folderFiles(1)).toEqual(all);
    const pdfs = all.filter((l) => l.endsWith(".pdf"));
    expect(pdfs.length).toBeGreaterThan(0);
    expect(pdfs.length).toBeLessThan(12);

    const f = await b.setFolderRules(1, [], ["*.pdf"]);
    expect(f).toMatchObject({ id: 1, include: [], exclude: ["*.pdf"], files: 12 - pdfs.length });
    expect(await locations(b)).toEqual(all.filter((l) => !l.endsWith(".pdf")));
    // the files are still on disk: no rules lets them in again (as new items)
    expect(b.hooks.folderFiles(1)).toEqual(all);
    expect((await b.setFolderRules(1, [], [])).files).toBe(12);
    expect(await locations(b)).toEqual(all);

    // an include picks files by name at any depth; an excluded folder leaves out all under it
    const inc = await b.setFolderRules(1, ["*.pdf", "*.md"], ["drafts/"]);
    const want = all.filter((l) => /\.(pdf|md)$/.test(l) && !l.includes("/Projects/drafts/"));
    expect(inc.files).toBe(want.length);
    expect(await locations(b)).toEqual(want);
    expect((await b.setFolderRules(1, ["{*.pdf,*.md}"], ["drafts/**"])).files).toBe(want.length);
    expect((await b.rescanFolder(1)).unchanged).toBe(want.length);
  });

  it("a bad glob is refused with the engine's sentence and nothing changes", async () => {
    const b = createFakeBackend({ speed: 0 });
    await b.addFolderDialog();
    for (const bad of [["[abc"], ["*.{md"], ["*.md}"]]) {
      const e = (await b.setFolderRules(1, bad, []).then(null, (x: unknown) => x)) as AppError;
      expect(e.code).toBe("invalid");
      expect(e.message).toContain("not a valid pattern");
      expect(e.message).toContain(JSON.stringify(bad[0]));
    }
    await expect(b.setFolderRules(1, [], ["a{b,{c}}"])).rejects.toMatchObject({ code: "invalid" });
    await expect(b.setFolderRules(9, [], [])).rejects.toMatchObject({ code: "not_found" });
    await expect(b.addFolder("/home/ada/Code", ["[x"], [])).rejects.toMatchObject({ code: "invalid" });
    expect((await b.listFolders())[0]).toMatchObject({ include: [], exclude: [], files: 12 });
  });

  it("keep-missing keeps the items of deleted files, marked missing, and a scan counts them", async () => {
    const b = createFakeBackend({ speed: 0 });
    await b.addFolderDialog();
    expect((await b.listItems(null)).every((i) => i.missingSince === null)).toBe(true);
    const keep = (await b.getSettings()).settings.find((x) => x.name === "keep-missing");
    expect(keep).toMatchObject({ value: "off", default: "off", kind: "switch" });
    await b.setSetting("keep-missing", "on");
    const events: EngineEvent[] = [];
    b.onEvents((batch) => events.push(...batch));
    b.hooks.changeFolder(1, { removed: 2 });
    const r = await b.rescanFolder(1);
    expect(r).toMatchObject({ removed: 0, missing: 2, unchanged: 10 });
    const items = await b.listItems(null);
    expect(items).toHaveLength(12);
    const gone = items.filter((i) => i.missingSince !== null);
    expect(gone).toHaveLength(2);
    for (const i of gone) expect(Date.parse(i.missingSince!)).toBeGreaterThan(0);
    await settle();
    expect(events.filter((e) => e.type === "itemUpdated" && e.item.missingSince !== null)).toHaveLength(2);
    // still missing at the next scan (and said so); with the setting off, deleted files go
    expect(await b.rescanFolder(1)).toMatchObject({ removed: 0, missing: 2 });
    await b.setSetting("keep-missing", "off");
    b.hooks.changeFolder(1, { removed: 1 });
    expect(await b.rescanFolder(1)).toMatchObject({ removed: 1, missing: 2 });
    expect(b.hooks.count()).toBe(11);
    expect((await b.listFolders())[0]!.files).toBe(11);
  });

  it("setMissing marks an item missing (and back); an unknown id is refused", async () => {
    const b = createFakeBackend({ seed: "states", speed: 0 });
    const [first] = await b.listItems("completed");
    b.hooks.setMissing(first!.id, "2026-11-28T11:00:00Z");
    const after = (await b.listItems(null)).find((i) => i.id === first!.id)!;
    expect(after).toMatchObject({ status: "completed", missingSince: "2026-11-28T11:00:00Z" });
    b.hooks.setMissing(first!.id, null);
    expect((await b.listItems(null)).find((i) => i.id === first!.id)!.missingSince).toBeNull();
    expect(() => b.hooks.setMissing("nope")).toThrow();
  });

  it("with folder-sync off the folder dialog adds the files once and watches nothing", async () => {
    const b = createFakeBackend({ speed: 0 });
    const sync = (await b.getSettings()).settings.find((x) => x.name === "folder-sync");
    expect(sync).toMatchObject({ value: "on", default: "on", kind: "switch", source: "default" });
    expect((await b.setSetting("folder-sync", "off")).settings.find((x) => x.name === "folder-sync")).toMatchObject({
      value: "off",
      source: "stored",
    });
    const r = await b.addFolderDialog();
    expect(r.added).toHaveLength(12);
    expect(r.skipped).toEqual([]);
    for (const it of r.added) expect(it.location.startsWith("/home/ada/Documents/Projects/")).toBe(true);
    expect(await b.listFolders()).toEqual([]);
    await b.setSetting("folder-sync", null);
    await b.addFolderDialog();
    expect((await b.listFolders()).map((f) => f.files)).toEqual([12]);
  });
});

describe("fake embedder settings", () => {
  it("refuses an http address off this computer with the engine's sentence", async () => {
    const b = createFakeBackend({ speed: 0 });
    await expect(b.setSetting("embedder", "http://10.0.0.5/v1")).rejects.toEqual({
      code: "invalid",
      message:
        "embedder is local or an embeddings API address: The embedding service must use https unless it runs on this computer (http://localhost…), and http://10.0.0.5/v1 does not.",
    });
    await expect(b.setSetting("embedder", "ftp://x.example/v1")).rejects.toMatchObject({ code: "invalid" });
    await expect(b.setSetting("embedder", "not a url")).rejects.toMatchObject({
      message:
        "embedder is local or an embeddings API address: The embedding service address is not a valid web address.",
    });
    for (const ok of ["http://127.0.0.2:11434/v1", "http://localhost:8080/v1", "http://[::1]:1/v1", " LOCAL "]) {
      await expect(b.setSetting("embedder", ok)).resolves.toBeTruthy();
    }
  });

  it("names the API model like the engine and keeps each model's vectors", async () => {
    const b = createFakeBackend({ seed: "states", speed: 0, model: "indexed" });
    const local = (await b.getSettings()).semantic!;
    expect(local.model).toBe("local:all-MiniLM-L6-v2");
    expect(local.embedded).toBe(local.total);
    const api = (await b.setSetting("embedder", "http://127.0.0.1:11434/v1")).semantic!;
    expect(api).toEqual({ model: "openai:text-embedding-3-small@127.0.0.1:11434", embedded: 0, total: local.total });
    expect((await b.setSetting("embed-model", "nomic-embed-text")).semantic!.model).toBe(
      "openai:nomic-embed-text@127.0.0.1:11434",
    );
    await b.buildSemanticIndex();
    expect((await b.semanticCoverage())!.embedded).toBe(local.total);
    // back to the local model: its vectors are still there
    expect((await b.setSetting("embedder", null)).semantic).toEqual(local);
    expect((await b.setSetting("embedder", "http://127.0.0.1:11434/v1")).semantic!.embedded).toBe(local.total);
  });

  it("without a local model, going back to local turns search by meaning off again", async () => {
    const b = createFakeBackend({ speed: 0 });
    expect((await b.getSettings()).semantic).toBeNull();
    expect((await b.setSetting("embedder", "https://api.example.com/v1")).semantic!.model).toBe(
      "openai:text-embedding-3-small@api.example.com",
    );
    expect((await b.setSetting("embedder", "local")).semantic).toBeNull();
  });

  it("never sends a saved key back", async () => {
    const b = createFakeBackend({ speed: 0 });
    const v = await b.setSetting("embed-key", "sk-test-123");
    expect(JSON.stringify(v)).not.toContain("sk-test-123");
    expect(v.settings.find((x) => x.name === "embed-key")).toMatchObject({ value: "(saved)", stored: "(saved)" });
    await expect(b.setSetting("embed-key", "sk with spaces")).rejects.toMatchObject({ code: "invalid" });
  });
});

describe("chart binning", () => {
  it("bins into at most maxBins bars and keeps totals", () => {
    const buckets = Array.from({ length: 100 }, (_, i) => ({ seconds: i + 1, count: i % 3 }));
    const bins = binDurations(buckets, 20);
    expect(bins.length).toBeLessThanOrEqual(20);
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(buckets.reduce((s, b) => s + b.count, 0));
    expect(binDurations([])).toEqual([]);
  });
  it("median", () => {
    expect(
      medianSeconds([
        { seconds: 1, count: 1 },
        { seconds: 5, count: 3 },
      ]),
    ).toBe(5);
    expect(medianSeconds([])).toBe(0);
  });
});

describe("fake query syntax (the engine's, search::query)", () => {
  it("plain words, phrases, prefixes and exclusions", () => {
    const q = parseQuery('Heron "tidal marsh" migrat* -draft -"old copy" nest');
    expect(q.words).toEqual(["heron", "nest"]);
    expect(q.phrases).toEqual([["tidal", "marsh"]]);
    expect(q.prefixes).toEqual(["migrat"]);
    expect(q.exclude).toEqual([["draft"], ["old", "copy"]]);
    expect(q.filters).toEqual({ types: [], within: [], after: null, before: null });
  });

  it("filters, and dates that do not exist read as words", () => {
    const q = parseQuery('report type:PDF in:"My Notes" in:example.org after:2026-01-01 before:2026-02-29');
    expect(q.words).toEqual(["report", "before", "2026", "02", "29"]);
    expect(q.filters).toEqual({
      types: ["pdf"],
      within: ["My Notes", "example.org"],
      after: "2026-01-01",
      before: null,
    });
    expect(parseQuery("before:2028-02-29").filters.before).toBe("2028-02-29");
  });

  it("type: kinds are alternatives, sources too, and a kind with a source must both hold", () => {
    const all = [
      { kind: "file", name: "a.pdf", mime: "application/pdf" },
      { kind: "url", name: "https://x.example/b.pdf", mime: "application/pdf" },
      { kind: "file", name: "c.docx", mime: null },
      { kind: "url", name: "https://x.example/d", mime: "text/html" },
      { kind: "file", name: "e.md", mime: "text/markdown" },
    ];
    const pass = (q: string) => all.filter((it) => typesMatch(parseQuery(q).filters.types, it)).map((it) => it.name);
    expect(pass("")).toEqual(all.map((it) => it.name));
    expect(pass("type:pdf")).toEqual(["a.pdf", "https://x.example/b.pdf"]);
    expect(pass("type:pdf type:file")).toEqual(["a.pdf"]);
    expect(pass("type:pdf type:link")).toEqual(["https://x.example/b.pdf"]);
    expect(pass("type:pdf type:word")).toEqual(["a.pdf", "https://x.example/b.pdf", "c.docx"]);
    expect(pass("type:pdf type:word type:files")).toEqual(["a.pdf", "c.docx"]);
    expect(pass("type:file type:web")).toEqual(all.map((it) => it.name));
    expect(pass("type:md type:urls")).toEqual([]);
  });

  it("malformed syntax reads as plain words", () => {
    const cases: [string, string[]][] = [
      ['heron "marsh', ["heron", "marsh"]],
      ["- heron", ["heron"]],
      ["-- heron", ["heron"]],
      ["a* heron", ["a", "heron"]],
      ["*", []],
      ["foo:bar", ["foo", "bar"]],
      ["type: heron", ["type", "heron"]],
      ["type:p/d heron", ["type", "p", "d", "heron"]],
      ["in: heron", ["in", "heron"]],
      ['""', []],
      ["C++ x86-64", ["c", "x86", "64"]],
    ];
    for (const [input, words] of cases) {
      const q = parseQuery(input);
      expect(q.words, input).toEqual(words);
      expect(q.exclude.length + q.prefixes.length, input).toBe(0);
      expect(q.filters, input).toEqual({ types: [], within: [], after: null, before: null });
    }
  });
});

describe("fake search", () => {
  const words = (t: string) => t.toLowerCase().split(/[^\p{L}\p{N}]+/u);
  const marks = (snippet: string) =>
    splitSnippet(snippet)
      .filter((p) => p.mark)
      .map((p) => p.text);
  // searching changes nothing: one library for the keyword-only tests
  const b = createFakeBackend({ seed: 300, speed: 0 });
  async function passage(b: ReturnType<typeof createFakeBackend>, chunkId: number) {
    const v = await b.openChunk(chunkId);
    return v.text.slice(v.start, v.end);
  }

  it("one hit per document; every word must be there when some passage has them all", async () => {
    const res = await b.search("budget roadmap", 50);
    expect(res.hits.length).toBeGreaterThan(1);
    expect(new Set(res.hits.map((h) => h.itemId)).size).toBe(res.hits.length);
    expect(res.noCloseMatches).toBe(false);
    for (const h of res.hits) {
      const w = words(await passage(b, h.chunkId));
      expect(w).toContain("budget");
      expect(w).toContain("roadmap");
      expect(h.similarity).toBeNull(); // keyword search: no vectors
    }
  });

  it('a "phrase" is those words in that order; -word leaves passages out', async () => {
    const phrase = await b.search('"budget roadmap"', 50);
    expect(phrase.hits.length).toBeGreaterThan(0);
    for (const h of phrase.hits) {
      expect(await passage(b, h.chunkId)).toMatch(/budget\W+roadmap/i);
      expect(marks(h.snippet).some((m) => /^budget\W+roadmap$/i.test(m))).toBe(true);
    }
    const all = await b.search("report", 50);
    const without = await b.search("report -budget", 50);
    expect(without.hits.length).toBeGreaterThan(0);
    for (const h of without.hits) expect(words(await passage(b, h.chunkId))).not.toContain("budget");
    expect(without.hits.map((h) => h.chunkId)).not.toEqual(all.hits.map((h) => h.chunkId));
  });

  it("prefix* matches word starts; function words neither match nor are marked", async () => {
    const res = await b.search("mitig*", 10);
    expect(res.hits.length).toBeGreaterThan(0);
    expect(marks(res.hits[0]!.snippet)).toContain("mitigation");
    const the = await b.search("the budget", 50);
    const plain = await b.search("budget", 50);
    expect(the.hits.map((h) => h.chunkId)).toEqual(plain.hits.map((h) => h.chunkId));
    for (const h of the.hits) expect(marks(h.snippet).map((m) => m.toLowerCase())).not.toContain("the");
  });

  it("type:, in:, after: and before: narrow the documents; alone they list them, newest first", async () => {
    const items = new Map((await b.listItems(null)).map((i) => [i.id, i]));
    const pdf = await b.search("type:pdf report", 50);
    expect(pdf.hits.length).toBeGreaterThan(0);
    for (const h of pdf.hits) expect(h.name.endsWith(".pdf")).toBe(true);
    const links = await b.search("type:link", 50);
    expect(links.hits.length).toBeGreaterThan(0);
    for (const h of links.hits) expect(items.get(h.itemId)!.kind).toBe("url");
    // a listing: score 0, newest first, no marks
    const added = links.hits.map((h) => items.get(h.itemId)!.addedAt);
    expect(added).toEqual([...added].sort().reverse());
    for (const h of links.hits) {
      expect(h.score).toBe(0);
      expect(h.snippet).not.toContain("\u0002");
    }
    const wiki = await b.search("in:WIKIPEDIA.org", 50);
    expect(wiki.hits.length).toBeGreaterThan(0);
    for (const h of wiki.hits) expect(h.location).toContain("wikipedia.org");
    const day = [...items.values()].map((i) => i.addedAt.slice(0, 10)).sort()[150]!;
    const after = await b.search(`after:${day}`, 200);
    const before = await b.search(`before:${day}`, 200);
    for (const h of after.hits) expect(items.get(h.itemId)!.addedAt >= day).toBe(true);
    for (const h of before.hits) expect(items.get(h.itemId)!.addedAt < day).toBe(true);
    const done = [...items.values()].filter((i) => i.status === "completed").length;
    expect(after.hits.length + before.hits.length).toBe(done);
    // several kinds: any of them (this library's links are all HTML: PDFs are files)
    const count = async (q: string) => (await b.search(q, 200)).hits.length;
    const either = (await b.search("type:pdf type:word", 200)).hits;
    expect(either.length).toBe((await count("type:pdf")) + (await count("type:word")));
    expect(either.some((h) => h.name.endsWith(".pdf")) && either.some((h) => h.name.endsWith(".docx"))).toBe(true);
    for (const h of either) expect(h.name).toMatch(/\.(pdf|docx)$/);
    // a kind with a source: both
    expect(await count("type:pdf type:file")).toBe(await count("type:pdf"));
    expect(await count("type:pdf type:link")).toBe(0);
    expect(await count("type:html type:link")).toBe(await count("type:link"));
    expect((await b.search("-report", 200)).hits.every((h) => h.score === 0)).toBe(true);
  });

  it("Type PDF with Source Files is type:pdf type:file: PDF files, not PDFs added as links", async () => {
    const sent = composeQuery("", { ...NO_FILTERS, type: "pdf", source: "file" }, new Date());
    expect(sent).toBe("type:pdf type:file");
    const v = createFakeBackend({ seed: "states", speed: 0 });
    v.hooks.configure({ failRate: 0 });
    const added = await v.addUrls(["https://arxiv.example/heron.pdf", "https://example.org/heron"]);
    v.hooks.step(200);
    const [pdfLink, page] = added.added.map((i) => i.id);
    const items = new Map((await v.listItems(null)).map((i) => [i.id, i]));
    expect(items.get(pdfLink!)).toMatchObject({ status: "completed", mime: "application/pdf" });
    expect(items.get(page!)).toMatchObject({ status: "completed", mime: "text/html" });
    const found = async (q: string) => (await v.search(q, 50)).hits.map((h) => h.itemId);
    const files = await found(sent);
    expect(files.length).toBeGreaterThan(0);
    for (const id of files) expect(items.get(id)).toMatchObject({ kind: "file", mime: "application/pdf" });
    expect(files).not.toContain(pdfLink);
    expect(await found("type:pdf type:link")).toEqual([pdfLink]);
    expect((await found("type:pdf")).sort()).toEqual([...files, pdfLink].sort());
  });

  it("nothing close: the nearest three, shown as such (with vectors); none without", async () => {
    const v = createFakeBackend({ seed: 300, speed: 0, model: "indexed" });
    const res = await v.search("zebra quantum", 50);
    expect(res.noCloseMatches).toBe(true);
    expect(res.hits).toHaveLength(3);
    for (const h of res.hits) expect(h.similarity).toBeLessThan(0.3);
    const close = await v.search("report", 50);
    expect(close.noCloseMatches).toBe(false);
    expect(await b.search("zebra quantum", 50)).toMatchObject({ hits: [], noCloseMatches: false, mode: "keyword" });
    // the keyword leg's partial matches are the nearest without vectors
    const s = createFakeBackend({ seed: "states", speed: 0 });
    const part = await s.search("annual zebra", 50);
    expect(part.noCloseMatches).toBe(true);
    expect(part.hits.map((h) => h.name)).toEqual(["Annual report 2025.pdf"]);
  });

  it("similar: other documents' passages nearest in meaning, or why it cannot", async () => {
    const v = createFakeBackend({ seed: 300, speed: 0, model: "indexed" });
    const from = (await v.search("report", 1)).hits[0]!;
    const res = await v.similar(from.chunkId, 20, "");
    expect(res.mode).toBe("semantic");
    expect(res.hits.length).toBeGreaterThan(0);
    expect(res.hits.length).toBeLessThanOrEqual(20);
    expect(res.hits.map((h) => h.itemId)).not.toContain(from.itemId);
    expect(new Set(res.hits.map((h) => h.itemId)).size).toBe(res.hits.length);
    const sims = res.hits.map((h) => h.similarity!);
    expect(sims).toEqual([...sims].sort((a, c) => c - a));
    // Among what filters let through; the words of the query are not filters.
    const pdfs = await v.similar(from.chunkId, 20, "type:pdf quarterly");
    expect(pdfs.hits.length).toBeGreaterThan(0);
    expect(res.hits.some((h) => !h.name.endsWith(".pdf"))).toBe(true);
    for (const h of pdfs.hits) expect(h.name).toMatch(/\.pdf$/);
    const other = res.hits[0]!;
    const without = await v.similar(from.chunkId, 20, `in:"${other.location}"`);
    expect(without.hits.map((h) => h.itemId)).toEqual([other.itemId]);
    await expect(v.similar(999_999_000, 5, "")).rejects.toMatchObject({ code: "not_found" });
    const none = createFakeBackend({ seed: "states", speed: 0 });
    const hit = (await none.search("probe", 1)).hits[0]!;
    await expect(none.similar(hit.chunkId, 5, "")).rejects.toMatchObject({ code: "invalid" });
    const unindexed = createFakeBackend({ seed: "states", speed: 0, model: "unindexed" });
    await expect(unindexed.similar(hit.chunkId, 5, "")).rejects.toMatchObject({
      code: "invalid",
      message: expect.stringMatching(/no vector/),
    });
  });

  it("records what was asked (for browser tests)", async () => {
    const s = createFakeBackend({ seed: "states", speed: 0 });
    await s.search("type:pdf annual", 5);
    expect(s.hooks.searches()).toEqual(["type:pdf annual"]);
  });
});

describe("fake ask", () => {
  type Ev = AskEvent;
  async function asked(b: ReturnType<typeof createFakeBackend>, q: string, history: AskTurn[] = []) {
    const events: Ev[] = [];
    const answer = await b.ask(q, history, (e) => events.push(e));
    return { events, answer };
  }
  const withEndpoint = async () => {
    const b = createFakeBackend({ seed: 300, speed: 0 });
    await b.setSetting("chat-url", "http://127.0.0.1:11434/v1");
    b.hooks.configureAsk({ tokenMs: 0 });
    return b;
  };

  it("without an endpoint: the numbered passages first, then no tokens and no answer", async () => {
    const b = createFakeBackend({ seed: 300, speed: 0 });
    const { events, answer } = await asked(b, "What does the budget roadmap say?");
    expect(events).toHaveLength(1);
    const first = events[0]!;
    expect(first.type).toBe("passages");
    if (first.type !== "passages") return;
    expect(first).toMatchObject({ relevant: true, answering: false });
    expect(first.passages.length).toBeGreaterThan(1);
    expect(first.passages.length).toBeLessThanOrEqual(5);
    expect(first.passages.map((p) => p.n)).toEqual(first.passages.map((_, i) => i + 1));
    // each passage is the chunk's whole text, as open_chunk has it
    for (const p of first.passages) {
      const v = await b.openChunk(p.chunkId);
      expect(v.text.slice(v.start, v.end).replace(/\f/g, "\n").trim()).toBe(p.text);
      expect(p.text.toLowerCase()).toMatch(/budget|roadmap/);
    }
    expect(answer).toMatchObject({ relevant: true, answer: null, cited: [], endpoint: null, model: null, error: null });
    expect(answer.passages).toEqual(first.passages);
    expect(answer.question).toBe("What does the budget roadmap say?");
  });

  it("with an endpoint: the answer streams in pieces that make the answer, citing [1] and [2]", async () => {
    const b = await withEndpoint();
    const { events, answer } = await asked(b, "What does the budget roadmap say?");
    expect(events[0]).toMatchObject({ type: "passages", relevant: true, answering: true });
    const tokens = events.slice(1).map((e) => (e.type === "token" ? e.text : "?"));
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join("")).toBe(answer.answer);
    // a citation may come cut in two
    expect(tokens.some((t) => /\[\d$/.test(t))).toBe(true);
    expect(answer.answer).toContain("What does the budget roadmap say?");
    expect(answer.answer).toMatch(/\[1\].*\[2\]/);
    expect(answer.cited).toEqual([1, 2]);
    expect(answer).toMatchObject({ endpoint: "http://127.0.0.1:11434/v1", model: "llama3.2", error: null });
    expect(citedIn(answer.answer!, answer.passages.length)).toEqual(answer.cited);
  });

  it("nothing close: relevant false, no answer; with vectors the nearest passages", async () => {
    const b = await withEndpoint();
    const { events, answer } = await asked(b, "zebra quantum?");
    expect(events).toEqual([{ type: "passages", passages: [], relevant: false, answering: false }]);
    expect(answer).toMatchObject({ relevant: false, answer: null, endpoint: "http://127.0.0.1:11434/v1" });
    const v = createFakeBackend({ seed: 300, speed: 0, model: "indexed" });
    const near = await asked(v, "zebra quantum?");
    expect(near.answer.relevant).toBe(false);
    expect(near.answer.passages).toHaveLength(3);
  });

  it("a failing endpoint: the passages, then the error and no answer", async () => {
    const b = await withEndpoint();
    b.hooks.configureAsk({ error: "the answer endpoint at {endpoint} could not be reached: connection refused" });
    const { events, answer } = await asked(b, "budget roadmap");
    expect(events.map((e) => e.type)).toEqual(["passages"]);
    expect(answer).toMatchObject({
      answer: null,
      cited: [],
      error: "the answer endpoint at http://127.0.0.1:11434/v1 could not be reached: connection refused",
    });
    expect(answer.passages.length).toBeGreaterThan(0);
  });

  it("records the history sent, follows up on the last question, pauses when asked, refuses an empty question", async () => {
    const b = await withEndpoint();
    const history = [{ question: "What is the budget?", answer: "It is small [1]." }];
    const { answer } = await asked(b, "And the roadmap?", history);
    expect(answer.answer).toMatch(/^Following up on “What is the budget\?”/);
    expect(b.hooks.asks()).toEqual([{ question: "And the roadmap?", history }]);

    b.hooks.configureAsk({ pauseAfter: 2 });
    const events: Ev[] = [];
    const done = b.ask("budget roadmap", [], (e) => events.push(e));
    await new Promise((ok) => setTimeout(ok, 80));
    expect(events.filter((e) => e.type === "token")).toHaveLength(2);
    b.hooks.resumeAsk();
    const whole = await done;
    expect(events.filter((e) => e.type === "token").length).toBeGreaterThan(2);
    expect(whole.answer).not.toBeNull();

    b.hooks.configureAsk({ pauseAfter: null, answer: "On {question}: see [2] (and [9])." });
    const other = await asked(b, "budget roadmap");
    expect(other.answer).toMatchObject({ answer: "On budget roadmap: see [2] (and [9]).", cited: [2] });

    await expect(b.ask("   ", [], () => {})).rejects.toMatchObject({ code: "invalid" });
  });
});

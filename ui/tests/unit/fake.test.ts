import { describe, expect, it } from "vitest";
import { createFakeBackend, fakeOptionsFromQuery } from "../../src/backend/fake";
import type { EngineEvent } from "../../src/backend/types";
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
    await expect(b.retryItem(done.id)).rejects.toMatchObject({ code: "invalid_state" });
  });

  it("validates URLs and reports skipped ones", async () => {
    const b = createFakeBackend({ speed: 0 });
    const r = await b.addUrls(["https://a.example/x", "not a url", "ftp://x.example", "https://a.example/x"]);
    expect(r.added.map((i) => i.location)).toEqual(["https://a.example/x"]);
    expect(r.skipped.map((s) => s.input)).toEqual(["not a url", "ftp://x.example", "https://a.example/x"]);
  });

  it("rejects out-of-range concurrency with an AppError", async () => {
    const b = createFakeBackend({ speed: 0 });
    await expect(b.setConcurrency(9)).rejects.toMatchObject({ code: "invalid_argument" });
    expect((await b.setConcurrency(8)).concurrency).toBe(8);
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

describe("chart binning", () => {
  it("bins into at most maxBins bars and keeps totals", () => {
    const buckets = Array.from({ length: 100 }, (_, i) => ({ seconds: i + 1, count: i % 3 }));
    const bins = binDurations(buckets, 20);
    expect(bins.length).toBeLessThanOrEqual(20);
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(buckets.reduce((s, b) => s + b.count, 0));
    expect(binDurations([])).toEqual([]);
  });
  it("median", () => {
    expect(medianSeconds([{ seconds: 1, count: 1 }, { seconds: 5, count: 3 }])).toBe(5);
    expect(medianSeconds([])).toBe(0);
  });
});

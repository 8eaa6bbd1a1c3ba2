import { describe, expect, it } from "vitest";
import { createFakeBackend, fakeOptionsFromQuery } from "../../src/backend/fake";
import type { AppError, DropOutcome, EngineEvent } from "../../src/backend/types";
import { ERROR_CODES, LIMITS } from "../../src/backend/types";
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

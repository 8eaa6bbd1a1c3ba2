// Performance measurements of the BUILT UI with the fake backend, in headless
// Debian Chromium. Not part of `npm test`; run `npm run perf` (builds first).
// Prints a table and a JSON line (PERF_JSON=...) for BENCHMARKS.md.
//
// Measures:
//  1. drop of 1,000 files → all 1,000 rows in the list (store + first row
//     painted + counts updated), on an empty library and on top of 10,000
//  2. frame times (requestAnimationFrame deltas: max, p95, p50) while 1,000
//     items go pending → processing → completed/failed in the fake worker
//  3. JS heap (after GC) with 0 and 10,000 items, DOM row count, load time
import { launch, openApp, serveDist } from "./e2e/helpers.mjs";

const RUNS = Number(process.env.PERF_RUNS ?? 3);

function pct(arr, p) {
  if (arr.length === 0) return 0;
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const median = (a) => pct(a, 50);
const r1 = (x) => Math.round(x * 10) / 10;

async function dropTime(context, url, query) {
  const { page } = await openApp(context, url, query);
  await page.waitForTimeout(300);
  const ms = await page.evaluate(async () => {
    const before = window.__trove.store.size;
    const t0 = performance.now();
    const ids = window.__troveFake.drop(1000);
    const newest = ids[ids.length - 1];
    return await new Promise((resolve) => {
      const check = () => {
        const s = window.__trove.store;
        const row = document.querySelector(`[data-testid="row-${newest}"]`);
        const count = document.querySelector('[data-testid="count-all"]')?.textContent;
        if (
          s.size === before + 1000 &&
          row &&
          !row.hidden &&
          count === (before + 1000).toLocaleString("en-US") &&
          ids.every((id) => s.get(id))
        ) {
          // wait for the frame that shows it to be produced
          requestAnimationFrame(() => resolve(performance.now() - t0));
        } else requestAnimationFrame(check);
      };
      check();
    });
  });
  await page.close();
  return ms;
}

async function churnFrames(context, url, query) {
  const { page } = await openApp(context, url, query);
  await page.waitForTimeout(500);
  const res = await page.evaluate(async () => {
    const fake = window.__troveFake;
    fake.configure({ speed: 0 });
    const ids = fake.addFiles(1000);
    await new Promise((r) => setTimeout(r, 300));
    const applied0 = window.__trove.applied;
    const frames0 = window.__trove.frames;
    const deltas = [];
    let last = performance.now();
    let running = true;
    const loop = (t) => {
      deltas.push(t - last);
      last = t;
      if (running) requestAnimationFrame(loop);
    };
    requestAnimationFrame((t) => {
      last = t;
      requestAnimationFrame(loop);
    });
    const t0 = performance.now();
    // 100 jobs at once, ~20 ticks per job at 50 ms: 1,000 items in ~10 s
    fake.configure({ speed: 1, tickMs: 50, concurrencyOverride: 100 });
    await new Promise((resolve) => {
      const check = () => {
        const s = window.__trove.store;
        if (
          ids.every((id) => {
            const st = s.get(id)?.status;
            return st === "completed" || st === "failed";
          })
        )
          resolve();
        else setTimeout(check, 50);
      };
      check();
    });
    running = false;
    const elapsed = performance.now() - t0;
    fake.configure({ concurrencyOverride: null });
    return {
      deltas: deltas.slice(1),
      elapsed,
      events: window.__trove.applied - applied0,
      applies: window.__trove.frames - frames0,
    };
  });
  await page.close();
  return res;
}

async function scrollFrames(context, url, query) {
  const { page } = await openApp(context, url, query);
  await page.waitForTimeout(500);
  const res = await page.evaluate(async () => {
    const vp = document.querySelector('[data-testid="item-list"]');
    const deltas = [];
    const t0 = performance.now();
    let last = t0;
    await new Promise((resolve) => {
      const step = (t) => {
        deltas.push(t - last);
        last = t;
        vp.scrollTop += 600; // ~10 rows per frame: a fast fling
        if (performance.now() - t0 < 4000 && vp.scrollTop + vp.clientHeight < vp.scrollHeight)
          requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame((t) => {
        last = t;
        requestAnimationFrame(step);
      });
    });
    return { deltas: deltas.slice(1), rows: document.querySelectorAll(".row").length };
  });
  await page.close();
  return res;
}

async function heap(context, url, query) {
  const { page } = await openApp(context, url, query);
  await page.waitForTimeout(500);
  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.enable");
  for (let i = 0; i < 3; i++) await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  const rows = await page.locator(".row").count();
  const nodes = await page.evaluate(() => document.getElementsByTagName("*").length);
  const items = await page.evaluate(() => window.__trove.store.size);
  await cdp.detach();
  await page.close();
  return { usedMB: usedSize / 1048576, rows, nodes, items };
}

async function loadTime(context, url, query) {
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const ms = Date.now() - t0;
  await page.close();
  return ms;
}

const srv = await serveDist();
const browser = await launch({ viewport: { width: 1280, height: 800 } });
const out = {};
try {
  const d0 = [],
    d10 = [];
  for (let i = 0; i < RUNS; i++) {
    d0.push(await dropTime(browser.context, srv.url, "fake=empty&speed=0"));
    d10.push(await dropTime(browser.context, srv.url, "fake=seed-10000&speed=0"));
  }
  out.drop1000_empty_ms = { median: r1(median(d0)), runs: d0.map(r1) };
  out.drop1000_on10k_ms = { median: r1(median(d10)), runs: d10.map(r1) };

  for (const [name, q] of [
    ["churn1000_empty", "fake=empty&speed=0"],
    ["churn1000_on10k", "fake=seed-10000&speed=0"],
  ]) {
    const c = await churnFrames(browser.context, srv.url, q);
    out[name] = {
      frames: c.deltas.length,
      frame_ms_p50: r1(pct(c.deltas, 50)),
      frame_ms_p95: r1(pct(c.deltas, 95)),
      frame_ms_p99: r1(pct(c.deltas, 99)),
      frame_ms_max: r1(Math.max(...c.deltas)),
      frames_over_50ms: c.deltas.filter((d) => d > 50).length,
      duration_s: r1(c.elapsed / 1000),
      events_applied: c.events,
      store_applies: c.applies,
    };
  }

  const sc = await scrollFrames(browser.context, srv.url, "fake=seed-10000&speed=0");
  out.scroll10k = {
    frames: sc.deltas.length,
    frame_ms_p50: r1(pct(sc.deltas, 50)),
    frame_ms_p95: r1(pct(sc.deltas, 95)),
    frame_ms_max: r1(Math.max(...sc.deltas)),
    rows_in_dom: sc.rows,
  };

  const h0 = await heap(browser.context, srv.url, "fake=empty&speed=0");
  const h10 = await heap(browser.context, srv.url, "fake=seed-10000&speed=0");
  out.heap_empty_MB = r1(h0.usedMB);
  out.heap_10k_MB = r1(h10.usedMB);
  out.heap_10k_delta_MB = r1(h10.usedMB - h0.usedMB);
  out.dom_rows_10k = h10.rows;
  out.dom_elements_10k = h10.nodes;
  const lt = [];
  for (let i = 0; i < RUNS; i++) lt.push(await loadTime(browser.context, srv.url, "fake=seed-10000&speed=0"));
  out.load_10k_ms = { median: median(lt), runs: lt };
} finally {
  await browser.close();
  await srv.close();
}

const chromiumVersion = await (async () => {
  try {
    const { execFileSync } = await import("node:child_process");
    return execFileSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", ["--version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
})();
console.log(`Trove UI perf — ${chromiumVersion}, headless, 1280×800, ${RUNS} runs where noted, fake backend, built UI`);
console.log(
  `drop 1,000 files → all rows in list (empty library):   median ${out.drop1000_empty_ms.median} ms  runs ${out.drop1000_empty_ms.runs.join(", ")}`,
);
console.log(
  `drop 1,000 files → all rows in list (on 10,000 items): median ${out.drop1000_on10k_ms.median} ms  runs ${out.drop1000_on10k_ms.runs.join(", ")}`,
);
for (const k of ["churn1000_empty", "churn1000_on10k"]) {
  const c = out[k];
  console.log(
    `${k}: ${c.frames} frames over ${c.duration_s} s; frame time p50 ${c.frame_ms_p50} ms, p95 ${c.frame_ms_p95} ms, p99 ${c.frame_ms_p99} ms, max ${c.frame_ms_max} ms, >50 ms: ${c.frames_over_50ms}; ${c.events_applied} events in ${c.store_applies} batched applies`,
  );
}
console.log(
  `scroll 10,000 items at 600 px/frame: ${out.scroll10k.frames} frames; frame time p50 ${out.scroll10k.frame_ms_p50} ms, p95 ${out.scroll10k.frame_ms_p95} ms, max ${out.scroll10k.frame_ms_max} ms; ${out.scroll10k.rows_in_dom} rows in DOM`,
);
console.log(
  `JS heap after GC: empty ${out.heap_empty_MB} MB, 10,000 items ${out.heap_10k_MB} MB (+${out.heap_10k_delta_MB} MB, includes the fake backend's own copy of state)`,
);
console.log(`DOM with 10,000 items: ${out.dom_rows_10k} row elements, ${out.dom_elements_10k} elements in total`);
console.log(
  `load 10,000 items to first render: median ${out.load_10k_ms.median} ms  runs ${out.load_10k_ms.runs.join(", ")}`,
);
console.log(`PERF_JSON=${JSON.stringify(out)}`);

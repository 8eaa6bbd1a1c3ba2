// Browser tests: the BUILT UI (dist/) with the fake backend, in headless
// Debian Chromium via playwright-core. Run with `npm run test:browser`
// (after `npm run build`), or as part of `npm test`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launch, openApp, serveDist } from "./helpers.mjs";

let srv;
let browser;
before(async () => {
  srv = await serveDist();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const tid = (id) => `[data-testid="${id}"]`;
const XSS_NAME = '<img src=x onerror="window.__pwned=1">';

async function idsByStatus(page) {
  return page.evaluate(() => {
    const out = {};
    for (const id of window.__trove.store.view()) {
      const it = window.__trove.store.get(id);
      out[it.status] = out[it.status] ?? [];
      out[it.status].push(id);
    }
    return out;
  });
}

describe("all four states (fake=states, frozen)", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0"));
  });
  after(async () => page.close());

  test("badges show pending, processing (spinner + %), completed (chunks) and failed", async () => {
    const ids = await idsByStatus(page);
    for (const s of ["pending", "processing", "completed", "failed"]) assert.ok(ids[s]?.length, `has ${s}`);
    for (const [s, list] of Object.entries(ids)) {
      for (const id of list) {
        const badge = page.locator(tid(`badge-${id}`));
        assert.equal(await badge.getAttribute("data-status"), s);
        assert.equal(await page.locator(tid(`row-${id}`)).getAttribute("data-status"), s);
        const text = await badge.innerText();
        if (s === "pending") assert.match(text, /Pending/);
        if (s === "processing") {
          assert.match(text, /Processing… \d+%/);
          assert.ok(await badge.locator(".spinner").isVisible(), "spinner visible");
        }
        if (s === "completed") assert.match(text, /Completed · \d+ chunks?/);
        if (s === "failed") assert.match(text, /Failed/);
      }
    }
    // duplicate marker
    assert.equal(await page.locator('[data-testid^="dup-"]').count(), 1);
    assert.match(await page.locator('[data-testid^="dup-"]').innerText(), /Duplicate of Local-first software/);
  });

  test("failed rows show the error text on the row, and a Retry button", async () => {
    const { failed } = await idsByStatus(page);
    for (const id of failed) {
      const err = page.locator(tid(`error-${id}`));
      assert.ok(await err.isVisible(), "error visible");
      const text = (await err.innerText()).trim();
      const expected = await page.evaluate((i) => window.__trove.store.get(i).error, id);
      assert.ok(
        text.length > 10 && expected.startsWith(text.replace(/…$/, "").slice(0, 20)),
        `error text shown: ${text}`,
      );
      assert.ok(await page.locator(tid(`retry-${id}`)).isVisible());
    }
    // non-failed rows have no visible retry
    const { completed } = await idsByStatus(page);
    assert.equal(await page.locator(tid(`retry-${completed[0]}`)).isVisible(), false);
  });

  test("clicking Retry moves the failed row to pending, then processing", async () => {
    const { failed } = await idsByStatus(page);
    const id = failed[0];
    await page.click(tid(`retry-${id}`));
    await page.waitForFunction(
      (i) => document.querySelector(`[data-testid="badge-${i}"]`)?.dataset.status === "pending",
      id,
    );
    assert.equal(await page.locator(tid(`error-${id}`)).count(), 0, "error gone after retry");
    // advance the frozen worker one tick at a time until the job is picked up
    const seen = await page.evaluate(async (i) => {
      for (let n = 0; n < 200; n++) {
        window.__troveFake.step(1);
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const s = document.querySelector(`[data-testid="badge-${i}"]`)?.dataset.status;
        if (s !== "pending") return s;
      }
      return "pending";
    }, id);
    assert.equal(seen, "processing");
    assert.match(await page.locator(tid(`badge-${id}`)).innerText(), /Processing… \d+%/);
  });

  test("file/page names with HTML render as literal text", async () => {
    const row = page.locator('[data-testid^="row-"]', { hasText: XSS_NAME });
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator(".row-name").textContent(), XSS_NAME);
    assert.equal(await page.locator("#app img").count(), 0, "no <img> element created");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  test("search: notice, highlighted snippet, <script> as text, open shows chunk in view", async () => {
    await page.click(tid("tab-search"));
    await page.fill(tid("search-input"), "probe");
    await page.waitForSelector(tid("search-hit-0"));
    assert.match(await page.locator(tid("search-notice")).innerText(), /Semantic search is off/);
    const snip = page.locator(`${tid("search-hit-0")} ${tid("search-snippet")}`);
    assert.equal(await snip.locator("mark").first().textContent(), "probe");
    assert.match(await snip.textContent(), /<script>window\.__pwned=1<\/script>/);
    assert.equal(await page.locator("#app script").count(), 0);
    await page.click(tid("search-hit-0"));
    const chunk = page.locator(tid("doc-chunk"));
    await chunk.waitFor();
    assert.ok((await chunk.textContent()).length > 0);
    const inView = await chunk.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const p = el.closest(".doc-text").getBoundingClientRect();
      return r.top < p.bottom && r.bottom > p.top;
    });
    assert.ok(inView, "chunk scrolled into view");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  test("search: a PDF hit says its page and the reader marks the pages", async () => {
    await page.fill(tid("search-input"), "annual report");
    await page.waitForFunction(
      () => document.querySelector('[data-testid="search-results"]').dataset.query === "annual report",
    );
    const hits = page.locator('[data-testid^="search-hit-"]', { hasText: "Annual report 2025.pdf" });
    const loc = await hits.first().locator(tid("search-hit-loc")).innerText();
    assert.match(loc, /Annual report 2025\.pdf · p\. \d+$/);
    await hits.first().click();
    // The reader may still show the previous test's document: wait for this one.
    await page.waitForFunction(() => document.querySelector(".search .doc-loc")?.textContent.includes("Annual report"));
    const markers = await page.locator(tid("doc-page")).allInnerTexts();
    assert.ok(markers.length >= 2, `page markers: ${markers}`);
    assert.deepEqual(
      markers,
      markers.map((_, i) => `page ${i + 2}`),
    );
    assert.match(await page.locator(".search .doc-loc").innerText(), /p\. \d+/);

    // "Open at page N" hands the desktop's viewer the same page the hit names.
    const hitPage = Number(loc.match(/p\. (\d+)$/)[1]);
    const open = page.locator(tid("doc-open"));
    assert.equal(await open.innerText(), `Open at page ${hitPage}`);
    await open.click();
    await page.waitForFunction(() => window.__troveFake.opened().length > 0);
    const [cmd] = await page.evaluate(() => window.__troveFake.opened().slice(-1));
    assert.deepEqual(cmd.slice(0, 3), ["evince", "--page-index", String(hitPage)]);
    assert.match(cmd[3], /Annual report 2025\.pdf$/);
    await page.locator(tid("doc-folder")).click();
    await page.waitForFunction(() => window.__troveFake.opened().length > 1);
    const [folder] = await page.evaluate(() => window.__troveFake.opened().slice(-1));
    assert.equal(folder[0], "xdg-open");
    assert.ok(!folder[1].endsWith(".pdf"), `the folder, not the file: ${folder}`);
  });

  test("search ranks and highlights ordinary terms; stale queries do not win", async () => {
    await page.fill(tid("search-input"), "zzzz-nothing");
    await page.fill(tid("search-input"), "xylophone");
    await page.waitForFunction(
      () => document.querySelector('[data-testid="search-results"]').dataset.query === "xylophone",
    );
    assert.equal(
      await page
        .locator(`${tid("search-hit-0")} mark`)
        .first()
        .textContent(),
      "xylophone",
    );
    await page.click(tid("tab-library"));
  });

  test("the CSP is in force (inline script and inline handlers blocked) and nothing violated it", async () => {
    // nothing in the tests so far produced a console error or CSP report
    assert.deepEqual(errors, []);
    const r = await page.evaluate(async () => {
      const violations = [];
      document.addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective));
      const sc = document.createElement("script");
      sc.textContent = "window.__inlineScript = 1";
      document.head.append(sc);
      const d = document.createElement("div");
      d.setAttribute("onclick", "window.__inlineHandler = 1");
      document.body.append(d);
      d.click();
      d.remove();
      sc.remove();
      await new Promise((ok) => setTimeout(ok, 50));
      return { script: window.__inlineScript, handler: window.__inlineHandler, violations };
    });
    assert.equal(r.script, undefined);
    assert.equal(r.handler, undefined);
    assert.ok(
      r.violations.some((v) => v.startsWith("script-src")),
      JSON.stringify(r.violations),
    );
  });
});

describe("drag and drop", () => {
  test("overlay follows the drag state; a drop adds rows at the top", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const overlay = page.locator(tid("drop-overlay"));
    assert.equal(await overlay.isVisible(), false);
    await page.evaluate(() => window.__troveFake.drag("enter", 3));
    await overlay.waitFor({ state: "visible" });
    assert.match(await overlay.innerText(), /3 items/);
    await page.evaluate(() => window.__troveFake.drag("over", 3));
    assert.ok(await overlay.isVisible());
    await page.evaluate(() => window.__troveFake.drag("leave", 0));
    await overlay.waitFor({ state: "hidden" });
    await page.evaluate(() => window.__troveFake.drag("enter", 5));
    const ids = await page.evaluate(() => window.__troveFake.drop(5));
    await overlay.waitFor({ state: "hidden" });
    for (const id of ids) await page.locator(tid(`row-${id}`)).waitFor();
    assert.equal(await page.locator(tid(`badge-${ids[0]}`)).getAttribute("data-status"), "pending");
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("drop report", () => {
  test("a drop shows the dialogs' add report: added count, skipped files with reasons, errors", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const toast = (text) => page.locator(tid("toast"), { hasText: text });
    const ids = await page.evaluate(() =>
      window.__troveFake.drop(2, {
        skipped: [{ input: "/home/ada/Documents/printer.sock", reason: "not a regular file or folder" }],
      }),
    );
    for (const id of ids) await page.locator(tid(`row-${id}`)).waitFor();
    await toast("Added 2 files.").waitFor();
    await toast("Skipped /home/ada/Documents/printer.sock: not a regular file or folder").waitFor();

    // a real (HTML) drop of a file that is already in the library: skipped with the engine's reason
    const dropNotes = () =>
      page.evaluate(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["hello"], "notes.txt", { type: "text/plain" }));
        window.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, cancelable: true }));
        window.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, cancelable: true }));
      });
    await dropNotes();
    await toast("Added 1 file.").waitFor();
    // the report (a toast) and the row (an events batch, applied on the next frame) race
    const first = await (
      await page.waitForFunction(
        () => window.__trove.store.view().find((id) => window.__trove.store.get(id).location === "/dropped/notes.txt"),
        null,
        { timeout: 5000 },
      )
    ).jsonValue();
    assert.ok(first, "the dropped file is listed");
    await dropNotes();
    await toast(`Skipped /dropped/notes.txt: already in the library as ${first}`).waitFor();

    // the whole drop failed in Rust: an error toast, as for the dialogs
    const before = await page.evaluate(() => window.__troveFake.count());
    await page.evaluate(() =>
      window.__troveFake.drop(1, { error: { code: "database", message: "The library database is locked." } }),
    );
    await toast("Could not add: The library database is locked.").waitFor();
    assert.equal(await page.evaluate(() => window.__troveFake.count()), before);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("library interactions", () => {
  test("Add URLs dialog adds valid ones and explains skipped ones", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    await page.click(tid("add-urls"));
    await page.fill(tid("url-input"), "https://example.org/a https://example.org/b\nnot-a-url");
    await page.click(tid("url-submit"));
    await page.locator(tid("url-skipped")).waitFor();
    assert.match(await page.locator(tid("url-skipped")).innerText(), /not-a-url.*not a valid URL/s);
    assert.equal(await page.locator(tid("url-input")).inputValue(), "not-a-url");
    await page.keyboard.press("Escape");
    await page.locator('[data-testid^="row-"]', { hasText: "https://example.org/b" }).waitFor();
    await page.close();
  });

  test("delete hides the row with Undo, which brings it back", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const { completed } = await idsByStatus(page);
    const id = completed[0];
    await page.hover(tid(`row-${id}`));
    await page.click(tid(`delete-${id}`));
    await page.locator(tid(`row-${id}`)).waitFor({ state: "detached" });
    assert.match(await page.locator(tid("delete-toast")).innerText(), /Deleted/);
    await page.click(tid("delete-toast-action"));
    await page.locator(tid(`row-${id}`)).waitFor({ state: "visible" });
    await page.close();
  });

  test("multi-select: shift-click range, ctrl-click toggle, bulk delete with undo, Space/Escape", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const view = await page.evaluate(() => window.__trove.store.view());
    await page.click(`${tid(`row-${view[0]}`)} .row-type`);
    await page.click(`${tid(`row-${view[4]}`)} .row-type`, { modifiers: ["Shift"] });
    assert.equal(await page.locator(tid("selection-count")).innerText(), "5 items selected");
    assert.equal(await page.locator('.row[data-selected="true"]').count(), 5);
    assert.match(await page.locator(tid("selection-retry")).innerText(), /Retry 2 failed/);
    await page.click(`${tid(`row-${view[2]}`)} .row-type`, { modifiers: ["Control"] });
    assert.equal(await page.locator(tid("selection-count")).innerText(), "4 items selected");
    await page.click(tid("selection-delete"));
    for (const i of [0, 1, 3, 4]) await page.locator(tid(`row-${view[i]}`)).waitFor({ state: "detached" });
    assert.ok(await page.locator(tid(`row-${view[2]}`)).isVisible());
    assert.match(await page.locator(tid("delete-toast")).innerText(), /Deleted 4 items/);
    assert.equal(await page.locator(tid("selection-bar")).isVisible(), false);
    await page.click(tid("delete-toast-action"));
    await page.locator(tid(`row-${view[0]}`)).waitFor();
    assert.equal(await page.locator(".row:not([hidden])").count(), 9);
    // keyboard: Space toggles, Shift+ArrowDown extends, Escape clears
    await page.locator(tid(`row-${view[5]}`)).focus();
    await page.keyboard.press("Space");
    await page.keyboard.press("Shift+ArrowDown");
    assert.equal(await page.locator(tid("selection-count")).innerText(), "2 items selected");
    await page.keyboard.press("Escape");
    assert.equal(await page.locator(tid("selection-bar")).isVisible(), false);
    await page.close();
  });

  test("status filter shows counts and only matching rows", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    assert.equal(await page.locator(tid("count-failed")).innerText(), "2");
    await page.click(tid("filter-failed"));
    const rows = page.locator(".row:not([hidden])");
    assert.equal(await rows.count(), 2);
    for (const s of await rows.evaluateAll((els) => els.map((e) => e.dataset.status))) assert.equal(s, "failed");
    await page.click(tid("retry-all"));
    await page.locator(tid("empty-filtered")).waitFor();
    await page.close();
  });

  test("name filter narrows the list and explains an empty result", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    await page.fill(tid("name-filter"), "local-FIRST");
    await page.waitForFunction(() => document.querySelectorAll(".row:not([hidden])").length === 2);
    await page.fill(tid("name-filter"), "no such thing");
    await page.locator(tid("empty-filtered")).waitFor();
    assert.match(await page.locator(tid("empty-filtered")).innerText(), /match “no such thing”/);
    await page.locator(tid("empty-filtered")).getByRole("button").click();
    await page.waitForFunction(() => document.querySelectorAll(".row:not([hidden])").length === 9);
    assert.equal(await page.locator(tid("name-filter")).inputValue(), "");
    await page.close();
  });

  test("keyboard: Tab reaches the list, arrows move, Enter opens details", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const view = await page.evaluate(() => window.__trove.store.view());
    await page.locator(tid(`row-${view[0]}`)).focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), `row-${view[2]}`);
    await page.keyboard.press("End");
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), `row-${view[view.length - 1]}`);
    await page.keyboard.press("Enter");
    await page.locator(tid("details-dialog")).waitFor({ state: "visible" });
    await page.keyboard.press("Escape");
    await page.locator(tid("details-dialog")).waitFor({ state: "hidden" });
    // rows have accessible names and the added time is available as text
    const label = await page.locator(tid(`row-${view[0]}`)).getAttribute("aria-label");
    assert.ok(label && label.length > 10);
    assert.ok((await page.locator(`${tid(`row-${view[0]}`)} time .sr-only`).textContent()).startsWith("Added "));
    assert.ok(await page.locator(`${tid(`row-${view[0]}`)} time`).getAttribute("title"));
    // Tab from the toolbar lands on the list eventually
    await page.locator(tid("add-files")).focus();
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement?.classList.contains("row"));
    }
    assert.ok(reached, "Tab reaches a row");
    await page.close();
  });

  test("queue panel: pause/resume and concurrency", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const pause = page.locator(tid("queue-pause"));
    await page.waitForFunction(() => document.querySelector('[data-testid="queue-chart"]'));
    assert.equal(await pause.getAttribute("aria-pressed"), "false");
    await pause.click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="queue-pause"]').getAttribute("aria-pressed") === "true",
    );
    assert.match(await page.locator(tid("queue-state")).innerText(), /Paused/);
    const range = page.locator(tid("queue-concurrency"));
    await range.focus();
    await range.fill("6");
    await range.dispatchEvent("change");
    await page.waitForFunction(() =>
      /of 6|Paused/.test(document.querySelector('[data-testid="queue-state"]').textContent),
    );
    assert.ok((await page.locator(`${tid("queue-chart")} rect`).count()) > 0);
    assert.ok((await page.locator('[data-testid^="queue-failed-"]').count()) >= 1);
    assert.ok((await page.locator('[data-testid^="queue-stuck-"]').count()) >= 1);
    await page.close();
  });

  test("concurrency control: its range is the engine's LIMITS; values outside are refused", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    await page.waitForFunction(() => document.querySelector('[data-testid="queue-chart"]'));
    const range = page.locator(tid("queue-concurrency"));
    const engineConcurrency = () =>
      page.evaluate(async () => (await window.__troveFake.backend.overview()).queue.concurrency);
    assert.equal(await range.getAttribute("min"), "1");
    assert.equal(await range.getAttribute("max"), "16");
    // the maximum is accepted (the old fake stopped at 8)
    await range.focus();
    await range.fill("16");
    await range.dispatchEvent("change");
    await page.waitForFunction(() => /of 16/.test(document.querySelector('[data-testid="queue-state"]').textContent));
    assert.equal(await engineConcurrency(), 16);
    // values outside LIMITS never reach the backend: refused with a message, the slider reset
    for (const [attr, value] of [
      ["max", "17"],
      ["min", "0"],
    ]) {
      await page.evaluate(
        ([a, v]) => {
          const r = document.querySelector('[data-testid="queue-concurrency"]');
          r.setAttribute(a, v); // as if the control allowed it
          r.value = v;
          r.dispatchEvent(new Event("change"));
        },
        [attr, value],
      );
      await page.locator(tid("toast"), { hasText: "Parallel jobs must be 1–16." }).first().waitFor();
      assert.equal(await range.inputValue(), "16");
      assert.equal(await engineConcurrency(), 16);
    }
    // and the backend refuses them too, with the engine's error code
    const rejected = await page.evaluate(() => window.__troveFake.backend.setConcurrency(17).catch((e) => e));
    assert.equal(rejected.code, "invalid");
    assert.match(rejected.message, /between 1 and 16/);
    assert.deepEqual(errors, []);
    await page.close();
  });
  test("a database problem reported by the worker shows as a banner, and goes away", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const banner = page.locator(tid("db-problem"));
    assert.equal(await banner.isHidden(), true);
    const msg = "Trove can't write to its database: disk full — processing paused, retrying";
    await page.evaluate((m) => window.__troveFake.setProblem(m), msg);
    // every QueueState the backend returns carries it (here: from pausing the queue)
    await page.locator(tid("queue-pause")).click();
    await banner.waitFor({ state: "visible" });
    assert.equal(await banner.textContent(), msg);
    assert.equal(await banner.getAttribute("role"), "alert");
    await page.evaluate(() => window.__troveFake.setProblem(null));
    await page.locator(tid("queue-pause")).click();
    await banner.waitFor({ state: "hidden" });
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("settings", () => {
  test("every setting the engine lists; saved values, refused values and defaults; the data folder", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    const names = await page.evaluate(async () =>
      (await window.__troveFake.backend.getSettings()).settings.map((s) => s.name),
    );
    await page.locator(tid("settings-open")).click();
    await page.waitForSelector(`${tid("settings-dialog")}[open]`);
    for (const n of names) assert.equal(await page.locator(tid(`setting-${n}`)).count(), 1, `${n} has a control`);
    assert.ok(names.includes("rate-limit") && names.includes("ocr-languages") && names.includes("pdf-viewer"));
    assert.match(await page.locator(tid("settings-db")).innerText(), /trove\.db$/);
    // The PDF viewer is a program: chosen in a terminal, not from the page.
    assert.equal(await page.locator(tid("setting-pdf-viewer")).isDisabled(), true);
    const refused = await page.evaluate(() =>
      window.__troveFake.backend.setSetting("pdf-viewer", "sh -c id").then(
        () => null,
        (e) => e.code,
      ),
    );
    assert.equal(refused, "invalid");

    // A good value is saved (and said to apply on next start where it does).
    const rate = page.locator(tid("setting-rate-limit"));
    await rate.fill("0.5");
    await rate.press("Enter");
    await page.waitForSelector(`${tid("setting-rate-limit-row")}[data-source="stored"]`);
    assert.equal(await page.locator(tid("setting-rate-limit")).inputValue(), "0.5");
    assert.match(await page.locator(tid("setting-rate-limit-row")).innerText(), /next time Trove starts/);
    // A bad one is refused in place, with the engine's sentence; nothing is saved.
    const jobs = page.locator(tid("setting-concurrency"));
    await jobs.fill("99");
    await jobs.press("Enter");
    const err = page.locator(`${tid("setting-concurrency-row")} [role="alert"]`);
    await err.waitFor();
    assert.match(await err.innerText(), /from 1 to 16/);
    assert.equal(await page.locator(tid("setting-concurrency-row")).getAttribute("data-source"), "default");
    // A switch saves on click; Default puts a saved value back.
    await page.locator(tid("setting-ocr")).click();
    await page.waitForSelector(`${tid("setting-ocr-row")}[data-source="stored"]`);
    assert.equal(await page.locator(tid("setting-ocr")).isChecked(), false);
    await page.locator(tid("setting-rate-limit-reset")).click();
    await page.waitForSelector(`${tid("setting-rate-limit-row")}[data-source="default"]`);
    assert.equal(await page.locator(tid("setting-rate-limit")).inputValue(), "1");

    await page.locator(tid("settings-open-folder")).click();
    await page.waitForFunction(() => window.__troveFake.opened().some((c) => c[1]?.endsWith("/share/trove")));
    assert.match(await page.locator(tid("settings-logs")).innerText(), /state\/trove$/);
    await page.locator(tid("settings-open-logs")).click();
    await page.waitForFunction(() => window.__troveFake.opened().some((c) => c[1]?.endsWith("/state/trove")));
    await page.locator(tid("settings-close")).click();
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("live updates", () => {
  test("event batches arriving within a frame are applied together (rAF coalescing)", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=empty&speed=0");
    const r = await page.evaluate(async () => {
      const f0 = window.__trove.frames;
      const n0 = window.__trove.store.size;
      window.__troveFake.burst(20, 10); // 20 separate batches delivered back to back
      const before = window.__trove.frames - f0; // nothing applied synchronously
      await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
      return { before, applies: window.__trove.frames - f0, added: window.__trove.store.size - n0 };
    });
    assert.equal(r.before, 0);
    assert.equal(r.added, 200);
    assert.equal(r.applies, 1, `20 batches applied in ${r.applies} frames`);
    await page.close();
  });

  test("a finished batch shows a toast; keyboard Delete keeps focus in the list", async () => {
    const { page } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    await page.evaluate(async () => {
      window.__troveFake.configure({ failRate: 0 });
      for (let i = 0; i < 400 && !document.querySelector('[data-testid="batch-toast"]'); i++) {
        window.__troveFake.step(1);
        await new Promise((ok) => setTimeout(ok, 5));
      }
    });
    await page.locator(tid("batch-toast")).waitFor();
    assert.match(await page.locator(tid("batch-toast")).innerText(), /Finished/);
    const view = await page.evaluate(() => window.__trove.store.view());
    await page.locator(tid(`row-${view[1]}`)).focus();
    await page.keyboard.press("Delete");
    await page.locator(tid(`row-${view[1]}`)).waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), `row-${view[2]}`);
    await page.close();
  });

  test("dark colour scheme renders without errors", async () => {
    const dark = await launch({ colorScheme: "dark" });
    try {
      const { page, errors } = await openApp(dark.context, srv.url, "fake=states&speed=0");
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, "rgb(20, 22, 26)");
      assert.deepEqual(errors, []);
    } finally {
      await dark.close();
    }
  });
});

describe("10,000 items", () => {
  test("the DOM holds < 200 rows and scrolling to the end shows the last item", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=seed-10000&speed=0");
    assert.equal(await page.evaluate(() => window.__trove.store.view().length), 10_000);
    const rows = await page.locator(".row").count();
    assert.ok(rows < 200, `rows in DOM: ${rows}`);
    const lastId = await page.evaluate(() => window.__trove.store.view().at(-1));
    await page.locator(tid("item-list")).evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    const last = page.locator(tid(`row-${lastId}`));
    await last.waitFor({ state: "visible" });
    const inView = await last.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const p = el.closest('[data-testid="item-list"]').getBoundingClientRect();
      return r.top >= p.top - 1 && r.bottom <= p.bottom + 1;
    });
    assert.ok(inView, "last row fully in view");
    assert.ok((await page.locator(".row").count()) < 200);
    assert.equal(await last.getAttribute("aria-posinset"), "10000");
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("semantic index and link refresh", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0&model=unindexed"));
  });
  after(async () => page.close());

  test("a model without vectors offers Build semantic index; building switches to hybrid without a notice", async () => {
    await page.click(tid("tab-search"));
    await page.fill(tid("search-input"), "probe");
    await page.waitForSelector(tid("search-hit-0"));
    assert.match(await page.locator(tid("search-notice-text")).innerText(), /semantic index is empty/);
    assert.ok(await page.locator(tid("build-index")).isVisible());
    await page.click(tid("build-index"));
    await page.locator(tid("search-notice")).waitFor({ state: "hidden" });
    assert.match(await page.locator(tid("search-status")).innerText(), /hybrid search/);
    assert.deepEqual(errors, []);
  });

  test("Refresh links queues every finished link again", async () => {
    await page.click(tid("tab-library"));
    const urlRows = await page.evaluate(() =>
      window.__trove.store.view().filter((id) => {
        const it = window.__trove.store.get(id);
        return it.kind === "url" && (it.status === "completed" || it.status === "failed");
      }),
    );
    assert.ok(urlRows.length > 0, "the seeded library has finished links");
    await page.click(tid("refresh-links"));
    await page.waitForFunction((ids) => ids.every((id) => window.__trove.store.get(id).status === "pending"), urlRows);
  });
});

describe("search: filters, syntax, nearest matches and more like this (fake=seed-300, vectors)", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "fake=seed-300&speed=0&model=indexed"));
    await page.click(tid("tab-search"));
  });
  after(async () => page.close());

  const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);
  /** the day (UTC) `days` before today, as the Added filter computes it */
  const daysAgo = (days) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
  /** wait until the list shows the answer to exactly this query (filters and text as sent) */
  const shown = (sent) =>
    page.waitForFunction((q) => document.querySelector('[data-testid="search-results"]').dataset.sent === q, sent, {
      timeout: 5000,
    });
  /** the hits on screen, with their items as the library knows them */
  const hits = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="search-results"] button.hit')].map((b) => {
        const it = window.__trove.store.get(b.dataset.itemId);
        return {
          id: b.dataset.itemId,
          chunk: Number(b.dataset.chunkId),
          name: b.querySelector(".hit-name").textContent,
          kind: it.kind,
          location: it.location,
          addedAt: it.addedAt,
          marks: [...b.querySelectorAll("mark")].map((m) => m.textContent),
        };
      }),
    );
  const status = () => page.locator(tid("search-status")).innerText();
  const lastSent = () => page.evaluate(() => window.__troveFake.searches().at(-1));

  test("a Type filter narrows the results to that kind, is sent as type:, and stays out of the box", async () => {
    await page.fill(tid("search-input"), "report");
    await shown("report");
    const all = await hits();
    assert.ok(
      all.some((h) => !h.name.endsWith(".pdf")),
      "other kinds before filtering",
    );
    await page.selectOption(tid("filter-type"), "pdf");
    await shown("type:pdf report");
    const pdfs = await hits();
    assert.ok(pdfs.length > 0);
    for (const h of pdfs) assert.match(h.name, /\.pdf$/);
    // "More like this" stays inside the filters
    await page.click(tid("search-more-0"));
    await page.waitForSelector(`${tid("similar-bar")}:not([hidden])`);
    const likePdfs = await hits();
    assert.ok(likePdfs.length > 0);
    for (const h of likePdfs) assert.match(h.name, /\.pdf$/);
    await page.click(tid("similar-back"));
    await page.locator(tid("similar-bar")).waitFor({ state: "hidden" });
    assert.equal(await page.locator(tid("search-input")).inputValue(), "report");
    assert.equal(await page.locator(tid("filter-type")).getAttribute("data-active"), "true");
    assert.equal(await page.locator(tid("filters-clear")).innerText(), "Clear filter");
    assert.match(await status(), /results? · hybrid search/);

    // a filter alone lists the documents it lets through, newest first
    await page.fill(tid("search-input"), "");
    await shown("type:pdf");
    const listed = await hits();
    assert.ok(listed.length > 0);
    for (const h of listed) assert.match(h.name, /\.pdf$/);
    const added = listed.map((h) => h.addedAt);
    assert.deepEqual(added, [...added].sort().reverse());
    assert.match(await status(), /^(\d+ documents? · newest first|Newest 50 documents)$/);
  });

  test("Added: past week sends after:<day a week ago> and keeps only what was added since", async () => {
    const since = daysAgo(7);
    await page.selectOption(tid("filter-added"), "week");
    await shown(`type:pdf after:${since}`);
    for (const h of await hits()) {
      assert.match(h.name, /\.pdf$/);
      assert.ok(h.addedAt >= since, `${h.addedAt} ≥ ${since}`);
    }
    assert.equal(await page.locator(tid("filters-clear")).innerText(), "Clear 2 filters");
    await page.selectOption(tid("filter-type"), "");
    await shown(`after:${since}`);
    const recent = await hits();
    assert.ok(recent.length > 0);
    for (const h of recent) assert.ok(h.addedAt >= since, `${h.addedAt} ≥ ${since}`);
    const completed = await page.evaluate(
      () => window.__trove.store.view().filter((id) => window.__trove.store.get(id).status === "completed").length,
    );
    assert.ok(recent.length < completed, "older documents are left out");
  });

  test("Source: links, files (a Type with Files is sent as both: files of that type), then one watched folder", async () => {
    const since = daysAgo(7);
    await page.selectOption(tid("filter-source"), "link");
    await shown(`type:link after:${since}`);
    const links = await hits();
    assert.ok(links.length > 0);
    for (const h of links) assert.equal(h.kind, "url");

    await page.selectOption(tid("filter-source"), "file");
    await shown(`type:file after:${since}`);
    for (const h of await hits()) assert.equal(h.kind, "file");
    // Web pages cannot be files: that Type is not offered with Files
    assert.equal(await page.locator(`${tid("filter-type")} option[value="link"]`).isDisabled(), true);
    await page.selectOption(tid("filter-type"), "markdown");
    await shown(`type:markdown type:file after:${since}`);
    for (const h of await hits()) {
      assert.equal(h.kind, "file");
      assert.match(h.name, /\.md$/);
    }
    await page.selectOption(tid("filter-type"), "");

    // a watched folder: its files, by path (listed once the view asks for the folders again)
    const ids = await page.evaluate(async () => {
      await window.__troveFake.backend.addFolder("/home/ada/Notes", [], []);
      await new Promise((r) => setTimeout(r, 50));
      const mine = window.__trove.store
        .view()
        .filter((id) => window.__trove.store.get(id).location.startsWith("/home/ada/Notes/"));
      for (const id of mine) window.__troveFake.setStatus(id, "completed");
      return mine;
    });
    assert.equal(ids.length, 8);
    await page.click(tid("tab-search"));
    await page.waitForSelector(`${tid("filter-source")} option[value="folder:/home/ada/Notes"]`, { state: "attached" });
    await page.selectOption(tid("filter-source"), "folder:/home/ada/Notes");
    await shown(`in:/home/ada/Notes/ after:${since}`);
    const inFolder = await hits();
    assert.deepEqual(inFolder.map((h) => h.id).sort(), [...ids].sort());
    for (const h of inFolder) assert.ok(h.location.startsWith("/home/ada/Notes/"));
    assert.equal(await page.locator(`${tid("filter-type")} option[value="link"]`).isDisabled(), true);
  });

  test("Clear filters sets every filter back and searches again without them", async () => {
    await page.fill(tid("search-input"), "report");
    await shown(`in:/home/ada/Notes/ after:${daysAgo(7)} report`);
    assert.equal(await page.locator(tid("filters-clear")).innerText(), "Clear 2 filters");
    await page.click(tid("filters-clear"));
    await shown("report");
    for (const f of ["filter-type", "filter-source", "filter-added"]) {
      assert.equal(await page.locator(tid(f)).inputValue(), "");
      assert.equal(await page.locator(tid(f)).getAttribute("data-active"), "false");
    }
    assert.equal(await page.locator(tid("filters-clear")).isVisible(), false);
    assert.equal(await focused(), "search-input");
    assert.equal(await lastSent(), "report");
  });

  test('a "quoted phrase", an -exclusion and function words, typed in the box', async () => {
    await page.fill(tid("search-input"), '"budget roadmap"');
    await shown('"budget roadmap"');
    const phrase = await hits();
    assert.ok(phrase.length > 0);
    for (const h of phrase)
      assert.ok(
        h.marks.some((m) => /^budget\s+roadmap$/i.test(m)),
        h.marks.join("|"),
      );

    await page.fill(tid("search-input"), "report -budget");
    await shown("report -budget");
    const without = await hits();
    assert.ok(without.length > 0);
    const passages = await page.evaluate(
      (chunks) =>
        Promise.all(
          chunks.map(async (c) => {
            const v = await window.__troveFake.backend.openChunk(c);
            return v.text.slice(v.start, v.end);
          }),
        ),
      without.map((h) => h.chunk),
    );
    for (const t of passages) assert.doesNotMatch(t, /\bbudget\b/i);

    await page.fill(tid("search-input"), "the budget");
    await shown("the budget");
    const marks = (await hits()).flatMap((h) => h.marks.map((m) => m.toLowerCase()));
    assert.ok(marks.includes("budget"));
    assert.ok(!marks.includes("the"), "function words are not highlighted");
  });

  test("no close matches: a heading says so and at most three quieter hits follow, still openable", async () => {
    await page.fill(tid("search-input"), "zebra quantum");
    await shown("zebra quantum");
    assert.equal(await status(), "No close matches for “zebra quantum” — the nearest:");
    const near = await hits();
    assert.ok(near.length >= 1 && near.length <= 3, `${near.length} nearest`);
    const results = page.locator(tid("search-results"));
    assert.equal(await results.getAttribute("data-nearest"), "true");
    const look = (sel) =>
      page
        .locator(sel)
        .first()
        .evaluate((el) => {
          const cs = getComputedStyle(el);
          return { color: cs.color, weight: cs.fontWeight, border: cs.borderTopStyle };
        });
    const quiet = await look(`${tid("search-hit-0")} .hit-name`);
    assert.equal((await look(tid("search-hit-0"))).border, "dashed");
    await page.click(tid("search-hit-0"));
    await page.waitForSelector(tid("doc-chunk"));
    // an ordinary search looks ordinary again
    await page.fill(tid("search-input"), "report");
    await shown("report");
    assert.equal(await results.getAttribute("data-nearest"), "false");
    const normal = await look(`${tid("search-hit-0")} .hit-name`);
    assert.notDeepEqual(quiet, normal, "the nearest are de-emphasised");
  });

  test("More like this lists other documents' passages; Back and Escape return to the results", async () => {
    // (a query unlike the last test's: `shown` would not wait for the same one again)
    await page.fill(tid("search-input"), "roadmap");
    await shown("roadmap");
    const before = await hits();
    const from = before[0];
    await page.click(tid("search-more-0"));
    await page.waitForSelector(`${tid("similar-bar")}:not([hidden])`);
    assert.equal(await page.locator(tid("similar-title")).innerText(), `Like “${from.name}”`);
    assert.equal(await page.locator(tid("search-results")).getAttribute("data-like"), String(from.chunk));
    const like = await hits();
    assert.ok(like.length > 0);
    assert.ok(!like.some((h) => h.id === from.id), "not the passage's own document");
    assert.match(await status(), /passages? from other documents · by meaning|No close matches — the nearest:/);
    assert.equal(await focused(), "search-hit-0");

    await page.click(tid("similar-back"));
    await page.locator(tid("similar-bar")).waitFor({ state: "hidden" });
    assert.deepEqual(
      (await hits()).map((h) => h.chunk),
      before.map((h) => h.chunk),
    );
    assert.equal(await focused(), "search-more-0");
    assert.match(await status(), /results · hybrid search/);

    // from the keyboard: → reaches a hit's More like this, Enter opens it, Escape goes back
    await page.focus(tid("search-hit-1"));
    await page.keyboard.press("ArrowRight");
    assert.equal(await focused(), "search-more-1");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${tid("similar-bar")}:not([hidden])`);
    assert.equal(await page.locator(tid("similar-title")).innerText(), `Like “${before[1].name}”`);
    // more like one of those, then back twice
    const second = await hits();
    await page.click(tid("search-more-0"));
    await page.waitForFunction(
      (c) => document.querySelector('[data-testid="search-results"]').dataset.like === String(c),
      second[0].chunk,
    );
    await page.keyboard.press("Escape");
    await page.waitForFunction(
      (c) => document.querySelector('[data-testid="search-results"]').dataset.like === String(c),
      before[1].chunk,
    );
    assert.deepEqual(
      (await hits()).map((h) => h.chunk),
      second.map((h) => h.chunk),
    );
    await page.keyboard.press("Escape");
    await page.locator(tid("similar-bar")).waitFor({ state: "hidden" });
    assert.deepEqual(
      (await hits()).map((h) => h.chunk),
      before.map((h) => h.chunk),
    );
    assert.equal(await focused(), "search-more-1");
    // typing a new search leaves "more like this" for good
    await page.click(tid("search-more-0"));
    await page.waitForSelector(`${tid("similar-bar")}:not([hidden])`);
    await page.fill(tid("search-input"), "budget");
    await shown("budget");
    assert.equal(await page.locator(tid("similar-bar")).isHidden(), true);
  });

  test("the syntax help opens from the keyboard, lists the syntax with examples, and Escape closes it", async () => {
    assert.match(
      await page.locator(tid("search-input")).getAttribute("placeholder"),
      /"exact phrase".*-word.*type:pdf/,
    );
    await page.focus(tid("search-input"));
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "search-syntax-toggle");
    const toggle = page.locator(tid("search-syntax-toggle"));
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await page.keyboard.press("Enter");
    const help = page.locator(tid("search-syntax"));
    await help.waitFor();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    const text = await help.innerText();
    for (const ex of ['"tidal marsh"', "migrat*", "-draft", "type:pdf", 'in:"My Notes"', "after:", "before:"]) {
      assert.ok(text.includes(ex), `help shows ${ex}`);
    }
    await page.keyboard.press("Escape");
    await help.waitFor({ state: "hidden" });
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    assert.equal(await focused(), "search-syntax-toggle");
    assert.deepEqual(errors, []);
  });
});

describe("search: more like this needs vectors", () => {
  test("without a model no hit offers it; without vectors it says why in an error toast", async () => {
    const none = await openApp(browser.context, srv.url, "fake=states&speed=0");
    try {
      await none.page.click(tid("tab-search"));
      await none.page.fill(tid("search-input"), "probe");
      await none.page.waitForSelector(tid("search-hit-0"));
      assert.equal(await none.page.locator('[data-testid^="search-more-"]').count(), 0);
    } finally {
      await none.page.close();
    }
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0&model=unindexed");
    try {
      await page.click(tid("tab-search"));
      await page.fill(tid("search-input"), "probe");
      await page.waitForSelector(tid("search-more-0"));
      await page.click(tid("search-more-0"));
      await page.waitForFunction(() =>
        [...document.querySelectorAll(".toast-error .toast-msg")].some((t) =>
          /^Could not find similar passages: This passage has no vector/.test(t.textContent),
        ),
      );
      assert.equal(await page.locator(tid("similar-bar")).isHidden(), true);
      assert.equal(await page.locator(tid("search-hit-0")).count(), 1, "the results stay");
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});

describe("keyboard shortcuts", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0"));
  });
  after(async () => page.close());

  const openDialog = (id) => page.waitForSelector(`${tid(id)}[open]`);
  const isOpen = (id) => page.locator(tid(id)).evaluate((d) => d.open);
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);
  // start each case from nothing focused, as after a click on the window's background
  const blur = () => page.evaluate(() => document.activeElement?.blur());

  test('"?" opens the overlay listing every shortcut; Close, F1 and Escape', async () => {
    await blur();
    await page.keyboard.press("?");
    await openDialog("shortcuts-dialog");
    const dialog = page.locator(tid("shortcuts-dialog"));
    assert.equal(await dialog.locator("h2").innerText(), "Keyboard shortcuts");
    assert.deepEqual(await dialog.locator("kbd").allInnerTexts(), [
      "Ctrl+K",
      "Ctrl+F",
      "/",
      "Ctrl+J",
      "Ctrl+O",
      "Ctrl+Shift+O",
      "Ctrl+L",
      "Ctrl+Shift+F",
      "Ctrl+,",
      "?",
      "F1",
      "Enter",
      "Delete",
      "R",
      "Space",
      "Shift+↑",
      "Shift+↓",
      "Ctrl+A",
      "Escape",
    ]);
    const row = (keys) =>
      dialog.locator(`${tid("shortcut-row")}`, { has: page.locator("kbd", { hasText: new RegExp(`^${keys}$`) }) });
    assert.equal(await row("Ctrl\\+O").locator("td").nth(1).innerText(), "Add files");
    assert.equal(await row("Ctrl\\+Shift\\+O").locator("td").nth(1).innerText(), "Add a folder");
    assert.equal(await row("Ctrl\\+,").locator("td").nth(1).innerText(), "Open Settings");
    assert.equal(await row("Ctrl\\+L").locator("td").nth(1).innerText(), "Add links (web pages)");
    assert.equal(await row("Ctrl\\+Shift\\+F").locator("td").nth(1).innerText(), "Open the watched folders");
    assert.equal(await row("Delete").getAttribute("data-scope"), "list");
    assert.equal(await row("Ctrl\\+J").locator("td").nth(1).innerText(), "Ask your library a question");
    assert.equal(await dialog.locator(tid("shortcut-row")).count(), 15);
    assert.equal(await focused(), "shortcuts-close");
    await page.click(tid("shortcuts-close"));
    assert.equal(await isOpen("shortcuts-dialog"), false);

    await blur();
    await page.keyboard.press("F1");
    await openDialog("shortcuts-dialog");
    await page.keyboard.press("Escape");
    assert.equal(await isOpen("shortcuts-dialog"), false);
    // the header button opens it too
    await page.click(tid("shortcuts-open"));
    await openDialog("shortcuts-dialog");
    await page.keyboard.press("Escape");
    assert.deepEqual(errors, []);
  });

  test("Ctrl+, opens Settings, and no shortcut fires while a dialog is open", async () => {
    await blur();
    await page.keyboard.press("Control+Comma");
    await openDialog("settings-dialog");
    const dialogs = await page.evaluate(() => window.__troveFake.dialogs().length);
    await page.keyboard.press("?");
    await page.keyboard.press("Control+o");
    await page.keyboard.press("Control+l");
    await page.waitForTimeout(300);
    assert.equal(await isOpen("shortcuts-dialog"), false);
    assert.equal(await isOpen("url-dialog"), false);
    assert.equal(await page.evaluate(() => window.__troveFake.dialogs().length), dialogs);
    assert.equal(await isOpen("settings-dialog"), true);
    await page.keyboard.press("Escape");
    assert.equal(await isOpen("settings-dialog"), false);
    assert.deepEqual(errors, []);
  });

  test('Ctrl+K and "/" focus the search input; "?" typed there is text, not the overlay', async () => {
    await blur();
    await page.keyboard.press("Control+k");
    assert.equal(await focused(), "search-input");
    assert.equal(await page.locator(tid("tab-search")).getAttribute("aria-selected"), "true");
    await page.keyboard.type("why?/");
    assert.equal(await page.locator(tid("search-input")).inputValue(), "why?/");
    assert.equal(await isOpen("shortcuts-dialog"), false);
    await page.fill(tid("search-input"), "");

    await page.click(tid("tab-library"));
    await page.locator(tid("item-list")).focus();
    assert.notEqual(await focused(), "search-input");
    await page.keyboard.press("/");
    assert.equal(await focused(), "search-input");
    // Ctrl combinations work from inside a field
    await page.keyboard.press("Control+f");
    assert.equal(await focused(), "search-input");
    assert.equal(await page.locator(tid("search-input")).inputValue(), "");
    assert.deepEqual(errors, []);
  });

  test("Ctrl+O opens the file dialog, Ctrl+Shift+O the folder dialog, Ctrl+L the Add links dialog", async () => {
    await page.click(tid("tab-library"));
    await blur();
    const before = await page.evaluate(() => window.__troveFake.dialogs());
    await page.keyboard.press("Control+o");
    await page.waitForFunction((n) => window.__troveFake.dialogs().length === n + 1, before.length);
    assert.deepEqual(await page.evaluate(() => window.__troveFake.dialogs()), [...before, "files"]);
    // the fake "picks" some files: the app reports them as it does for the toolbar button
    await page
      .locator(tid("toast"), { hasText: /^Added \d files?\.$/ })
      .first()
      .waitFor();

    await blur();
    await page.keyboard.press("Control+Shift+O");
    await page.waitForFunction((n) => window.__troveFake.dialogs().length === n + 2, before.length);
    assert.deepEqual(await page.evaluate(() => window.__troveFake.dialogs()), [...before, "files", "folder"]);

    await blur();
    await page.keyboard.press("Control+l");
    await openDialog("url-dialog");
    assert.equal(await focused(), "url-input");
    await page.keyboard.press("Escape");
    assert.equal(await isOpen("url-dialog"), false);
    assert.deepEqual(errors, []);
  });
});

describe("folders", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "speed=0"));
    // the confirm step is in the dialog: a native confirm() would be an error here
    page.on("dialog", (d) => {
      errors.push(`native dialog: ${d.message()}`);
      void d.dismiss();
    });
  });
  after(async () => page.close());

  const P = "/home/ada/Documents/Projects";
  const text = (id) => page.locator(tid(id)).innerText();
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);
  const libraryCount = () => page.evaluate(() => window.__trove.store.view().length);
  const waitForText = (id, value) =>
    page.waitForFunction(([i, v]) => document.querySelector(`[data-testid="${i}"]`)?.textContent === v, [id, value], {
      timeout: 5000,
    });
  /** a toast whose message is exactly `message` */
  const toastExact = (message) =>
    page.waitForFunction(
      (m) => [...document.querySelectorAll(".toast-msg")].some((t) => t.textContent === m),
      message,
      { timeout: 5000 },
    );
  async function openFolders() {
    await page.click(tid("folders-open"));
    await page.waitForSelector(`${tid("folders-dialog")}[open]`);
  }
  async function closeFolders() {
    await page.click(tid("folders-close"));
    assert.equal(await page.locator(tid("folders-dialog")).evaluate((d) => d.open), false);
  }

  test("no folders: the dialog says how to add one", async () => {
    await openFolders();
    assert.equal(await page.locator(`${tid("folders-dialog")} h2`).innerText(), "Watched folders");
    assert.equal(
      await text("folders-empty"),
      "No watched folders. Add a folder to keep its files in sync with the library.",
    );
    assert.equal(await page.locator(tid("folders-list")).isVisible(), false);
    assert.equal(await page.locator(`${tid("folders-list")} li`).count(), 0);
    await closeFolders();
  });

  test("Add folder… watches the picked folder: listed with its files and what it left out, its items in the library", async () => {
    await openFolders();
    await page.click(tid("folders-add"));
    await page.locator(tid("folder-1-row")).waitFor();
    assert.deepEqual(await page.evaluate(() => window.__troveFake.dialogs()), ["folder"]);
    assert.equal(await page.locator(`${tid("folder-1-row")} .folder-path`).innerText(), P);
    assert.equal(await text("folder-1-files"), "12 files");
    assert.equal(await text("folder-1-skipped"), "214 images, 1 empty file skipped");
    assert.equal(await text("folder-1-state"), "watching");
    assert.equal(await text("folder-1-scan"), "last scan just now");
    assert.ok(await page.locator(tid("folder-1-scan")).getAttribute("title"), "the full time on hover");
    assert.equal(await page.locator(tid("folder-1-rules")).count(), 0, "no include/exclude rules");
    assert.equal(await page.locator(tid("folder-1-message")).count(), 0, "no message");
    assert.equal(await page.locator(tid("folders-empty")).isVisible(), false);
    assert.equal(await text("folders-status"), `Now watching ${P}.`);
    assert.equal(await page.locator(tid("folder-1-pause")).innerText(), "Pause");
    assert.equal(await page.locator(tid("folder-1-rescan")).getAttribute("aria-label"), `Rescan ${P}`);
    // reported like every add; the folder's files are in the library
    await toastExact("Added 12 files.");
    await page.waitForFunction(() => window.__trove.store.view().length === 12);
    const locations = await page.evaluate(() =>
      window.__trove.store.view().map((id) => window.__trove.store.get(id).location),
    );
    for (const l of locations) assert.ok(l.startsWith(`${P}/`), l);
    await closeFolders();
    assert.equal(await page.locator(tid("count-all")).innerText(), "12");
    const first = await page.evaluate(() => window.__trove.store.view()[0]);
    await page.locator(tid(`row-${first}`)).waitFor();
  });

  test("Rescan reports what it found in a toast: no changes, then 3 added, 1 changed, 2 removed", async () => {
    await openFolders();
    await page.click(tid("folder-1-rescan"));
    await toastExact(`Rescanned ${P}: no changes.`);
    await waitForText("folders-status", `Rescanned ${P}: no changes.`);
    await page.evaluate(() => window.__troveFake.changeFolder(1, { added: 3, changed: 1, removed: 2 }));
    await page.click(tid("folder-1-rescan"));
    await toastExact(`Rescanned ${P}: 3 added, 1 changed, 2 removed.`);
    await waitForText("folder-1-files", "13 files");
    await page.waitForFunction(() => window.__trove.store.view().length === 13);
    assert.equal(await focused(), "folder-1-rescan", "focus stays on Rescan");
    await closeFolders();
  });

  test("Pause and Resume change the state (Ctrl+Shift+F opens the dialog)", async () => {
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press("Control+Shift+F");
    await page.waitForSelector(`${tid("folders-dialog")}[open]`);
    const pause = page.locator(tid("folder-1-pause"));
    await pause.click();
    await waitForText("folder-1-state", "paused");
    assert.equal(await page.locator(tid("folder-1-state")).getAttribute("data-state"), "paused");
    assert.equal(await pause.innerText(), "Resume");
    assert.equal(await pause.getAttribute("aria-label"), `Resume ${P}`);
    assert.equal(await page.evaluate(() => window.__troveFake.folders()[0].watching), false);
    assert.equal(await text("folders-status"), `Paused ${P}: its changes are not followed until you resume it.`);
    assert.equal(await focused(), "folder-1-pause", "focus stays on the button");
    await pause.click();
    await waitForText("folder-1-state", "watching");
    assert.equal(await pause.innerText(), "Pause");
    assert.equal(await page.evaluate(() => window.__troveFake.folders()[0].watching), true);
    assert.equal(await text("folders-status"), `Watching ${P} again.`);
    await closeFolders();
  });

  test("an unavailable folder says why and a rescan changes nothing; one checked every minute says so", async () => {
    await page.evaluate(() => window.__troveFake.setFolderState(1, "unavailable"));
    await openFolders();
    assert.equal(await text("folder-1-state"), "unavailable");
    assert.equal(await page.locator(tid("folder-1-row")).getAttribute("data-state"), "unavailable");
    assert.equal(
      await text("folder-1-message"),
      `${P} is not there (an unplugged drive, or moved or deleted?); its items are kept until it is back`,
    );
    // files deleted meanwhile are not noticed while the folder is away
    await page.evaluate(() => window.__troveFake.changeFolder(1, { removed: 5 }));
    await page.click(tid("folder-1-rescan"));
    await toastExact(`${P} is not there: nothing was changed.`);
    assert.equal(await text("folder-1-files"), "13 files");
    assert.equal(await libraryCount(), 13);
    await closeFolders();

    const why = "the system's limit of watched folders is reached: checking for changes every minute instead";
    await page.evaluate((m) => window.__troveFake.setFolderState(1, "polling", m), why);
    await openFolders();
    assert.equal(await text("folder-1-state"), "checking every minute");
    assert.equal(await page.locator(tid("folder-1-state")).getAttribute("data-state"), "polling");
    assert.equal(await text("folder-1-message"), why);

    // back: the next rescan catches up
    await page.evaluate(() => window.__troveFake.setFolderState(1, "ok"));
    await page.click(tid("folder-1-rescan"));
    await toastExact(`Rescanned ${P}: 5 removed.`);
    await waitForText("folder-1-state", "watching");
    assert.equal(await text("folder-1-files"), "8 files");
    assert.equal(await page.locator(tid("folder-1-message")).count(), 0);
    await page.waitForFunction(() => window.__trove.store.view().length === 8);
    await closeFolders();
  });

  test("Remove asks inside the dialog; keeping the items leaves them in the library", async () => {
    await page.evaluate(() => window.__troveFake.backend.addFolder("/home/ada/Papers", ["*.pdf"], ["drafts/**"]));
    await page.waitForFunction(() => window.__trove.store.view().length === 13);
    await openFolders();
    assert.equal(await text("folder-2-files"), "5 files");
    assert.equal(await text("folder-2-skipped"), "2 archives, 1 video skipped");
    assert.equal(await text("folder-2-rules"), "Only: *.pdf · Leaving out: drafts/**");
    const remove = page.locator(tid("folder-2-remove"));
    assert.equal(await remove.getAttribute("aria-expanded"), "false");
    await remove.click();
    const confirm = page.locator(tid("folder-2-confirm"));
    await confirm.waitFor();
    assert.equal(await remove.getAttribute("aria-expanded"), "true");
    assert.equal(await confirm.locator(".folder-confirm-title").innerText(), "Stop watching /home/ada/Papers?");
    const keep = page.locator(tid("folder-2-keep"));
    assert.equal(await keep.isChecked(), false);
    assert.equal(await focused(), "folder-2-keep");
    assert.equal(await confirm.getByLabel("Keep its items in the library").count(), 1);
    assert.equal(
      await text("folder-2-confirm-effect"),
      "Its 5 items are removed from the library. The files on disk are not touched.",
    );
    // Cancel: nothing happens
    await page.click(tid("folder-2-cancel-remove"));
    assert.equal(await confirm.count(), 0);
    assert.equal(await focused(), "folder-2-remove");
    assert.equal(await page.evaluate(() => window.__troveFake.folders().length), 2);

    await remove.click();
    await keep.check();
    assert.equal(
      await text("folder-2-confirm-effect"),
      "Its 5 items stay in the library; changes on disk are no longer followed.",
    );
    await page.click(tid("folder-2-confirm-remove"));
    await page.locator(tid("folder-2-row")).waitFor({ state: "detached" });
    await toastExact("Stopped watching /home/ada/Papers; its items stay in the library.");
    assert.deepEqual(await page.evaluate(() => window.__troveFake.folders().map((f) => f.id)), [1]);
    assert.equal(await page.evaluate(() => window.__troveFake.count()), 13);
    assert.equal(await libraryCount(), 13);
  });

  test("Remove without keeping the items takes them out of the library; the empty state is back", async () => {
    await page.click(tid("folder-1-remove"));
    assert.equal(await page.locator(tid("folder-1-keep")).isChecked(), false);
    assert.equal(
      await text("folder-1-confirm-effect"),
      "Its 8 items are removed from the library. The files on disk are not touched.",
    );
    await page.click(tid("folder-1-confirm-remove"));
    await page.locator(tid("folder-1-row")).waitFor({ state: "detached" });
    await toastExact(`Stopped watching ${P} and removed its 8 items.`);
    await page.waitForFunction(() => window.__trove.store.view().length === 5);
    const locations = await page.evaluate(() =>
      window.__trove.store.view().map((id) => window.__trove.store.get(id).location),
    );
    for (const l of locations) assert.ok(l.startsWith("/home/ada/Papers/"), l);
    assert.ok(await page.locator(tid("folders-empty")).isVisible());
    assert.equal(await focused(), "folders-add", "focus moves to Add folder…");
    await closeFolders();
    assert.deepEqual(errors, []);
  });
});

describe("folders: rules, sync and missing files", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "speed=0"));
    page.on("dialog", (d) => {
      errors.push(`native dialog: ${d.message()}`);
      void d.dismiss();
    });
  });
  after(async () => page.close());

  const P = "/home/ada/Documents/Projects";
  const text = (id) => page.locator(tid(id)).innerText();
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);
  const locations = () =>
    page.evaluate(() => window.__trove.store.view().map((id) => window.__trove.store.get(id).location));
  const setting = (name) =>
    page.evaluate(
      async (n) => (await window.__troveFake.backend.getSettings()).settings.find((s) => s.name === n).value,
      name,
    );
  const waitForText = (id, value) =>
    page.waitForFunction(([i, v]) => document.querySelector(`[data-testid="${i}"]`)?.textContent === v, [id, value], {
      timeout: 5000,
    });
  const toastExact = (message) =>
    page.waitForFunction(
      (m) => [...document.querySelectorAll(".toast-msg")].some((t) => t.textContent === m),
      message,
      { timeout: 5000 },
    );
  async function openFolders() {
    await page.click(tid("folders-open"));
    await page.waitForSelector(`${tid("folders-dialog")}[open]`);
  }
  async function closeFolders() {
    await page.click(tid("folders-close"));
    assert.equal(await page.locator(tid("folders-dialog")).evaluate((d) => d.open), false);
  }
  /** scroll the (virtualised) list until the row of `id` is rendered */
  async function showRow(id) {
    await page.evaluate((i) => {
      const at = window.__trove.store.view().indexOf(i);
      document.querySelector('[data-testid="item-list"]').scrollTop = Math.max(0, at * 60 - 60);
    }, id);
    await page.locator(tid(`row-${id}`)).waitFor();
  }

  test("Edit rules: Escape cancels; Save rescans with the new rules and the row shows them; a bad pattern says why", async () => {
    await openFolders();
    await page.click(tid("folders-add"));
    await page.locator(tid("folder-1-row")).waitFor();
    await page.waitForFunction(() => window.__trove.store.view().length === 12);
    const all = await locations();
    const pdfs = all.filter((l) => l.endsWith(".pdf")).length;
    const mds = all.filter((l) => l.endsWith(".md")).length;
    assert.ok(pdfs > 0 && pdfs < 12 && mds > 0, `${pdfs} PDFs and ${mds} Markdown files of 12`);

    // open (the include field gets focus, both prefilled empty); Escape closes only the editor
    const edit = page.locator(tid("folder-1-edit-rules"));
    assert.equal(await edit.getAttribute("aria-label"), `Edit rules of ${P}`);
    assert.equal(await edit.getAttribute("aria-expanded"), "false");
    await edit.click();
    const editor = page.locator(tid("folder-1-rules-editor"));
    await editor.waitFor();
    assert.equal(await edit.getAttribute("aria-expanded"), "true");
    assert.equal(await focused(), "folder-1-include");
    assert.equal(await page.getByLabel("Only files matching").inputValue(), "");
    assert.equal(await page.getByLabel("Leave out").inputValue(), "");
    await page.keyboard.type("*.md");
    await page.keyboard.press("Escape");
    await editor.waitFor({ state: "detached" });
    assert.equal(await page.locator(tid("folders-dialog")).evaluate((d) => d.open), true, "the dialog stays open");
    assert.equal(await focused(), "folder-1-edit-rules");
    assert.equal(await page.locator(tid("folder-1-rules")).count(), 0, "nothing was saved");
    assert.equal(await text("folder-1-files"), "12 files");

    // from the keyboard: Enter opens it, Enter in a field saves
    await page.keyboard.press("Enter");
    await editor.waitFor();
    await page.locator(tid("folder-1-exclude")).fill("*.pdf");
    await page.locator(tid("folder-1-exclude")).press("Enter");
    await editor.waitFor({ state: "detached" });
    await waitForText("folder-1-files", `${12 - pdfs} files`);
    assert.equal(await text("folder-1-rules"), "Leaving out: *.pdf");
    await toastExact(`Saved the rules of ${P}: ${12 - pdfs} files in the library.`);
    assert.equal(await text("folders-status"), `Saved the rules of ${P}: ${12 - pdfs} files in the library.`);
    assert.equal(await focused(), "folder-1-edit-rules", "focus goes back to Edit rules");
    await page.waitForFunction((n) => window.__trove.store.view().length === n, 12 - pdfs);
    assert.ok(
      (await locations()).every((l) => !l.endsWith(".pdf")),
      "the PDFs left the library",
    );

    // a bad pattern: the engine's reason in the editor, which stays open; nothing changes
    await edit.click();
    await editor.waitFor();
    assert.equal(await page.locator(tid("folder-1-exclude")).inputValue(), "*.pdf", "prefilled");
    await page.locator(tid("folder-1-include")).fill("[abc");
    await page.click(tid("folder-1-save-rules"));
    const error = page.locator(tid("folder-1-rules-error"));
    await error.waitFor();
    assert.match(await error.innerText(), /^Could not save the rules: not a valid pattern: "\[abc"/);
    assert.equal(await error.getAttribute("role"), "alert");
    assert.equal(await page.locator(tid("folder-1-include")).getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator(tid("folder-1-include")).inputValue(), "[abc", "what was typed stays");
    assert.equal(await text("folder-1-rules"), "Leaving out: *.pdf");
    assert.deepEqual(await page.evaluate(() => window.__troveFake.folders()[0].include), []);
    await page.click(tid("folder-1-cancel-rules"));
    await editor.waitFor({ state: "detached" });

    // several patterns, comma or newline separated: the PDFs are let in again, the rest leave
    await edit.click();
    await page.locator(tid("folder-1-include")).fill("*.pdf,\n*.md");
    await page.locator(tid("folder-1-exclude")).fill("");
    await page.click(tid("folder-1-save-rules"));
    await editor.waitFor({ state: "detached" });
    await waitForText("folder-1-files", `${pdfs + mds} files`);
    assert.equal(await text("folder-1-rules"), "Only: *.pdf, *.md");
    assert.deepEqual(await page.evaluate(() => window.__troveFake.folders()[0].include), ["*.pdf", "*.md"]);
    await page.waitForFunction((n) => window.__trove.store.view().length === n, pdfs + mds);
    assert.ok((await locations()).every((l) => /\.(pdf|md)$/.test(l)));
    await closeFolders();
  });

  test("Keep folders I add in sync: on by default; unticking saves folder-sync off and Add folder… adds the files once", async () => {
    await openFolders();
    const sync = page.locator(tid("folders-dialog")).getByLabel("Keep folders I add in sync");
    assert.equal(await sync.isChecked(), true);
    assert.equal(await setting("folder-sync"), "on");
    assert.equal(
      await page.locator("#folders-sync-hint").innerText(),
      "Folders you add or drop on the window are watched for changes; off, their files are added once.",
    );
    await sync.click();
    await page.waitForFunction(async () => {
      const v = await window.__troveFake.backend.getSettings();
      return v.settings.find((s) => s.name === "folder-sync").value === "off";
    });
    assert.equal(await sync.isChecked(), false);
    await waitForText(
      "folders-status",
      "Folders you add from now on have their files added once; they are not watched.",
    );
    // read back from the setting when the dialog opens again, and the same in Settings
    await closeFolders();
    await openFolders();
    assert.equal(await sync.isChecked(), false);
    await closeFolders();
    await page.click(tid("settings-open"));
    await page.waitForSelector(`${tid("settings-dialog")}[open]`);
    assert.equal(await page.locator(tid("setting-folder-sync")).isChecked(), false);
    assert.equal(await page.locator(tid("setting-folder-sync-row")).getAttribute("data-source"), "stored");
    assert.equal(await page.locator(tid("setting-keep-missing")).isChecked(), false);
    await page.click(tid("settings-close"));

    // off: the picked folder's files are added, the folder is not watched
    const before = await page.evaluate(() => window.__trove.store.view().length);
    await openFolders();
    await page.click(tid("folders-add"));
    await toastExact("Added 8 files.");
    await page.waitForFunction((n) => window.__trove.store.view().length === n + 8, before);
    assert.equal(await page.locator(`${tid("folders-list")} > li`).count(), 1);
    assert.deepEqual(await page.evaluate(() => window.__troveFake.folders().map((f) => f.path)), [P]);

    // back on, from the keyboard
    await sync.focus();
    await page.keyboard.press("Space");
    await page.waitForFunction(async () => {
      const v = await window.__troveFake.backend.getSettings();
      return v.settings.find((s) => s.name === "folder-sync").value === "on";
    });
    assert.equal(await sync.isChecked(), true);
    await waitForText("folders-status", "Folders you add from now on are watched and kept in sync.");
    await closeFolders();
  });

  test("a missing item shows a Missing marker beside its status badge, with the date, also in its details", async () => {
    // keep-missing on: a rescan keeps the item of a deleted file and says so
    await page.evaluate(() => window.__troveFake.backend.setSetting("keep-missing", "on"));
    await page.evaluate(() => window.__troveFake.changeFolder(1, { removed: 1 }));
    await openFolders();
    assert.match(
      await page.locator("#folders-about").innerText(),
      /the items of deleted files are kept, marked missing/,
    );
    const files = await text("folder-1-files");
    await page.click(tid("folder-1-rescan"));
    await toastExact(`Rescanned ${P}: 1 missing (kept).`);
    assert.equal(await text("folder-1-files"), files, "the item stays");
    await closeFolders();
    const [gone] = await page.evaluate(() =>
      window.__trove.store.view().filter((id) => window.__trove.store.get(id).missingSince !== null),
    );
    assert.ok(gone, "one item is missing");
    await showRow(gone);
    const marker = page.locator(tid(`missing-${gone}`));
    assert.equal(await marker.isVisible(), true);
    assert.equal(await marker.innerText(), "Missing");
    assert.match(await marker.getAttribute("title"), /^The file was deleted on \w+ \d+, \d{4}; its text is kept$/);
    assert.equal(await page.locator(tid(`badge-${gone}`)).isVisible(), true, "the status badge is still there");
    assert.match(
      await page.locator(tid(`row-${gone}`)).getAttribute("aria-label"),
      /missing: The file was deleted on /,
    );
    assert.equal(await page.locator(".row-missing:not([hidden])").count(), 1, "only that row is marked");

    // an item marked by the hook: completed, with a fixed date; its details say it too
    const done = await page.evaluate(() => window.__trove.store.view().find((id) => id !== undefined));
    await page.evaluate((id) => {
      window.__troveFake.setStatus(id, "completed");
      window.__troveFake.setMissing(id, "2026-11-28T11:00:00Z");
    }, done);
    await showRow(done);
    const mark = page.locator(tid(`missing-${done}`));
    await mark.waitFor();
    const title = await mark.getAttribute("title");
    assert.match(title, /^The file was deleted on November 2[89], 2026; its text is kept$/);
    assert.match(await page.locator(tid(`badge-${done}`)).innerText(), /^Completed/);
    await page.locator(tid(`row-${done}`)).dblclick();
    await page.locator(tid("details-dialog")).waitFor({ state: "visible" });
    const details = await page.locator(`${tid("details-dialog")} dl`).innerText();
    assert.ok(details.includes(`${title}.`), details);
    await page.click(tid("details-close"));
    // what the format says about the file (an e-mail's From, To, Date) is in its details too
    await page.evaluate((id) => {
      window.__troveFake.setMetadata(id, [
        { label: "From", value: "Ann Example <ann@example.com>" },
        { label: "Date", value: "2024-03-15 10:30:00 +01:00" },
      ]);
    }, done);
    await page.locator(tid(`row-${done}`)).dblclick();
    await page.locator(tid("details-dialog")).waitFor({ state: "visible" });
    const terms = await page.locator(`${tid("details-dialog")} dt`).allInnerTexts();
    const values = await page.locator(`${tid("details-dialog")} dd`).allInnerTexts();
    const from = terms.indexOf("From");
    assert.ok(from > terms.indexOf("Location"), terms.join(", "));
    assert.equal(values[from], "Ann Example <ann@example.com>");
    assert.equal(values[terms.indexOf("Date")], "2024-03-15 10:30:00 +01:00");
    await page.click(tid("details-close"));
    // the file is back: no marker
    await page.evaluate((id) => window.__troveFake.setMissing(id, null), done);
    await mark.waitFor({ state: "hidden" });
    assert.deepEqual(errors, []);
  });
});

describe("settings: embeddings", () => {
  let page;
  let errors;
  before(async () => {
    ({ page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0&model=indexed"));
  });
  after(async () => page.close());

  const API_ONLY = ["embed-model", "embed-key", "embed-rpm", "embed-tpm"];
  const LOCAL = "local:all-MiniLM-L6-v2";
  const row = (name) => page.locator(tid(`setting-${name}-row`));
  const text = (id) => page.locator(tid(id)).innerText();
  const toastExact = (message) =>
    page.waitForFunction(
      (m) => [...document.querySelectorAll(".toast-msg")].some((t) => t.textContent === m),
      message,
      { timeout: 5000 },
    );
  const waitForText = (id, value) =>
    page.waitForFunction(([i, v]) => document.querySelector(`[data-testid="${i}"]`)?.textContent === v, [id, value], {
      timeout: 5000,
    });
  /** passages of the completed items (the worker is frozen: this does not change) */
  const passages = () =>
    page.evaluate(() =>
      window.__trove.store
        .view()
        .map((id) => window.__trove.store.get(id))
        .filter((it) => it.status === "completed")
        .reduce((n, it) => n + it.chunkCount, 0)
        .toLocaleString("en-US"),
    );
  const saved = (name) =>
    page.evaluate(
      async (n) => (await window.__troveFake.backend.getSettings()).settings.find((s) => s.name === n),
      name,
    );
  async function apiRowsShown(shown) {
    for (const n of API_ONLY) {
      assert.equal(await row(n).isVisible(), shown, `${n} ${shown ? "shown" : "hidden"}`);
      assert.equal((await row(n).getAttribute("hidden")) === null, shown, `${n} hidden attribute`);
    }
  }

  test("with the local model the API-only settings are hidden and every passage is indexed", async () => {
    await page.click(tid("settings-open"));
    await page.waitForSelector(`${tid("settings-dialog")}[open]`);
    assert.equal(await page.locator(tid("setting-embedder")).inputValue(), "local");
    assert.ok(await row("embedder").isVisible());
    await apiRowsShown(false);
    const n = await passages();
    assert.notEqual(n, "0");
    assert.equal(await text("settings-semantic"), `All ${n} passages can be found by meaning (${LOCAL}).`);
    assert.equal(await page.locator(tid("settings-build-index")).isVisible(), false);
  });

  test("an http address off this computer is refused with the reason; nothing is saved", async () => {
    const input = page.locator(tid("setting-embedder"));
    await input.fill("http://10.0.0.5/v1");
    await input.press("Enter");
    const error = row("embedder").locator(".setting-error");
    await error.waitFor();
    assert.equal(
      await error.innerText(),
      "embedder is local or an embeddings API address: The embedding service must use https unless it runs on this computer (http://localhost…), and http://10.0.0.5/v1 does not.",
    );
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    await apiRowsShown(false);
    assert.equal((await saved("embedder")).value, "local");
    assert.equal(
      await text("settings-semantic"),
      `All ${await passages()} passages can be found by meaning (${LOCAL}).`,
    );
  });

  test("an https address saved with Enter reveals the API settings; its model starts empty and Build indexes it", async () => {
    const input = page.locator(tid("setting-embedder"));
    await input.fill("https://api.example.com/v1");
    await input.press("Enter");
    await toastExact("Embeddings (search by meaning): saved");
    await row("embed-model").waitFor({ state: "visible" });
    await apiRowsShown(true);
    assert.equal(await page.locator(tid("setting-embedder")).inputValue(), "https://api.example.com/v1");
    assert.equal(await page.locator(tid("setting-embedder")).getAttribute("aria-invalid"), null);
    assert.equal(await row("embedder").locator(".setting-error").isVisible(), false);
    assert.equal(await row("embedder").getAttribute("data-source"), "stored");
    assert.equal((await saved("embedder")).value, "https://api.example.com/v1");

    const n = await passages();
    const model = "openai:text-embedding-3-small@api.example.com";
    assert.equal(await text("settings-semantic"), `0 of ${n} passages can be found by meaning (${model}).`);
    const build = page.locator(tid("settings-build-index"));
    assert.ok(await build.isVisible());
    await build.click();
    await waitForText("settings-semantic", `All ${n} passages can be found by meaning (${model}).`);
    await toastExact(`Semantic index built (${n} passages embedded).`);
    assert.equal(await build.isVisible(), false);
  });

  test("the API key is a password field never filled with the saved key; Remove forgets it", async () => {
    const key = page.locator(tid("setting-embed-key"));
    const reset = page.locator(tid("setting-embed-key-reset"));
    assert.equal(await key.getAttribute("type"), "password");
    assert.equal(await key.inputValue(), "");
    assert.equal(await key.getAttribute("placeholder"), "none");
    assert.equal(await reset.isVisible(), false);

    await key.fill("sk with spaces");
    await key.press("Enter");
    const error = row("embed-key").locator(".setting-error");
    await error.waitFor();
    assert.equal(await error.innerText(), "embed-key must be one word of up to 4096 characters, without spaces");
    assert.equal(await key.getAttribute("aria-invalid"), "true");

    await key.fill("sk-test-123");
    await key.press("Enter");
    await toastExact("API key: saved");
    await page.waitForFunction(
      () => document.querySelector('[data-testid="setting-embed-key"]').placeholder !== "none",
    );
    assert.equal(await key.getAttribute("type"), "password");
    assert.equal(await key.inputValue(), "");
    assert.equal(await key.getAttribute("placeholder"), "saved (type a new one to replace it)");
    assert.equal(await key.getAttribute("aria-invalid"), null);
    assert.ok(await reset.isVisible());
    assert.equal(await reset.innerText(), "Remove");
    assert.equal((await saved("embed-key")).stored, "(saved)");
    // the key is nowhere in the page
    assert.equal((await page.content()).includes("sk-test-123"), false);
    assert.equal(
      await page.evaluate(() => [...document.querySelectorAll("input")].some((i) => i.value.includes("sk-test-123"))),
      false,
    );

    await reset.click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="setting-embed-key"]').placeholder === "none",
    );
    assert.equal(await reset.isVisible(), false);
    assert.equal((await saved("embed-key")).stored, null);
  });

  test("back to local: the API settings hide again and the local model's passages are all still indexed", async () => {
    await page.click(tid("setting-embedder-reset"));
    await page.waitForFunction(() => document.querySelector('[data-testid="setting-embedder"]').value === "local");
    await apiRowsShown(false);
    assert.equal(
      await text("settings-semantic"),
      `All ${await passages()} passages can be found by meaning (${LOCAL}).`,
    );
    await page.keyboard.press("Escape");
    assert.equal(await page.locator(tid("settings-dialog")).evaluate((d) => d.open), false);
    assert.deepEqual(errors, []);
  });
});

describe("toasts", () => {
  /** boxes of the toasts on screen (not leaving), once their entry animation is over */
  async function toastBoxes(page) {
    return page.evaluate(async () => {
      const toasts = [...document.querySelectorAll(".toast:not(.leaving)")];
      // (not document.getAnimations(): spinners run forever)
      await Promise.all(toasts.flatMap((t) => t.getAnimations().map((a) => a.finished.catch(() => null))));
      return toasts.map((t) => {
        const r = t.getBoundingClientRect();
        return { text: t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      });
    });
  }

  function assertApart(boxes, label) {
    const vw = boxes.vw;
    const vh = boxes.vh;
    for (const b of boxes.list) {
      assert.ok(
        b.left >= 0 && b.top >= 0 && b.right <= vw && b.bottom <= vh,
        `${label}: ${b.text} inside ${vw}×${vh}: ${JSON.stringify(b)}`,
      );
      assert.ok(b.right - b.left > 0 && b.bottom - b.top > 0, `${label}: ${b.text} has a size`);
    }
    for (let i = 0; i < boxes.list.length; i++) {
      for (let j = i + 1; j < boxes.list.length; j++) {
        const a = boxes.list[i];
        const b = boxes.list[j];
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        assert.ok(!overlap, `${label}: "${a.text}" overlaps "${b.text}": ${JSON.stringify([a, b])}`);
      }
    }
  }

  /** an info, a success, two errors (one long) and more, all at once */
  async function showMany(page) {
    const long = `/home/ada/Documents/${"a-very-long-folder-name/".repeat(4)}report.sock`;
    await page.evaluate((long) => {
      const f = window.__troveFake;
      f.drop(2, { skipped: [{ input: long, reason: "not a regular file or folder" }] });
      f.drop(1, { error: { code: "database", message: "The library database is locked." } });
      f.drop(1, {
        error: {
          code: "database",
          message: `Trove can't write to its database: disk full — processing paused, retrying. ${long}`,
        },
      });
      f.drop(3);
    }, long);
    // (in a narrow window the queue panel may cover the toolbar: click through the DOM)
    await page.locator(tid("retry-all")).evaluate((b) => b.click());
    await page.waitForFunction(() => document.querySelectorAll(".toast:not(.leaving)").length >= 6);
  }

  for (const [w, hgt] of [
    [1280, 800],
    [420, 640],
  ]) {
    test(`info, error and more toasts at once never overlap and stay inside a ${w}×${hgt} window`, async () => {
      const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
      await page.setViewportSize({ width: w, height: hgt });
      await showMany(page);
      const list = await toastBoxes(page);
      assert.ok(list.length >= 6, `${list.length} toasts`);
      assert.ok(
        list.some((b) => b.text.startsWith("Could not add")),
        "an error toast is among them",
      );
      assert.ok(
        list.some((b) => b.text.startsWith("Skipped")),
        "an info toast is among them",
      );
      assertApart({ list, vw: w, vh: hgt }, `${w}×${hgt}`);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test("more toasts than fit: the oldest info ones make way first; the newest and these errors stay", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    await page.setViewportSize({ width: 420, height: 640 });
    await page.evaluate(() => {
      const f = window.__troveFake;
      for (let i = 0; i < 4; i++) {
        f.drop(1, {
          error: { code: "database", message: `Error ${i}: the library database is locked by another program.` },
        });
      }
      for (let i = 0; i < 8; i++) f.drop(1, { skipped: [{ input: `/home/ada/x${i}.sock`, reason: "not a file" }] });
      f.drop(1, { skipped: [{ input: "/home/ada/last.sock", reason: "not a file" }] });
    });
    await page.locator(tid("toast"), { hasText: "Skipped /home/ada/last.sock: not a file" }).waitFor();
    const list = await toastBoxes(page);
    assertApart({ list, vw: 420, vh: 640 }, "flood");
    const texts = list.map((b) => b.text);
    assert.ok(list.length < 4 + 2 * 9, `${list.length} shown: some made way`);
    for (let i = 0; i < 4; i++)
      assert.ok(
        texts.some((t) => t.startsWith(`Could not add: Error ${i}:`)),
        `error ${i} kept`,
      );
    assert.ok(!texts.includes("Skipped /home/ada/x0.sock: not a file"), "the oldest info made way");
    // a bigger window has room again for what comes next
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.evaluate(() => window.__troveFake.drop(1));
    await page.locator(tid("toast"), { hasText: "Added 1 file." }).last().waitFor();
    assertApart({ list: await toastBoxes(page), vw: 1280, vh: 800 }, "after resize");
    assert.deepEqual(errors, []);
    await page.close();
  });
});

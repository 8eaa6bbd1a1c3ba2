// Automated accessibility audit (axe-core, from npm) of the built UI in light
// and dark schemes: library with all four states, search with an opened
// document, search with filters set and the syntax help open, "no close matches" (the
// nearest, de-emphasised), "more like this", the Add URLs dialog, the keyboard shortcuts overlay, the Folders dialog
// (empty, and folders in every state with a removal being confirmed, and rules being
// edited with a refused pattern), and the drop overlay. A missing item's marker is in
// the library. Fails on serious or critical violations (contrast included).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { launch, openApp, serveDist } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

let srv;
before(async () => {
  srv = await serveDist();
});
after(async () => srv?.close());

async function audit(page, label) {
  // page.evaluate is not subject to the page's CSP (no inline <script> needed)
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  // axe measures contrast as painted: let fade-ins (the drop overlay's 120 ms) finish first,
  // or a half-transparent frame reads as low contrast; spinners run forever and are skipped
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().iterations !== Number.POSITIVE_INFINITY)
        .map((a) => a.finished.catch(() => {})),
    ),
  );
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${label}: ${JSON.stringify(bad, null, 1)}`);
  return violations;
}

for (const scheme of ["light", "dark"]) {
  test(`axe: no serious/critical violations (${scheme})`, async () => {
    const b = await launch({ colorScheme: scheme });
    try {
      const { page } = await openApp(b.context, srv.url, "fake=states&speed=0");
      await page.waitForSelector('[data-testid="queue-chart"]');
      const missing = await page.evaluate(() => {
        const id = window.__trove.store.view().find((i) => window.__trove.store.get(i).status === "completed");
        window.__troveFake.setMissing(id);
        return id;
      });
      await page.waitForSelector(`[data-testid="missing-${missing}"]`);
      await audit(page, "library");
      await page.click('[data-testid="tab-search"]');
      await page.fill('[data-testid="search-input"]', "probe");
      await page.waitForSelector('[data-testid="search-hit-0"]');
      await page.click('[data-testid="search-hit-0"]');
      await page.waitForSelector('[data-testid="doc-chunk"]');
      await audit(page, "search");
      // filters set (the Clear button shows), the syntax help open
      const sent = (q) =>
        page.waitForFunction((v) => document.querySelector('[data-testid="search-results"]').dataset.sent === v, q);
      await page.selectOption('[data-testid="filter-type"]', "pdf");
      await page.selectOption('[data-testid="filter-added"]', "week");
      await page.waitForFunction(() =>
        /^type:pdf after:\S+ probe$/.test(document.querySelector('[data-testid="search-results"]').dataset.sent),
      );
      await page.click('[data-testid="search-syntax-toggle"]');
      await page.waitForSelector('[data-testid="search-syntax"]:not([hidden])');
      await audit(page, "search (filters set, syntax help open)");
      // nothing close: the nearest, de-emphasised
      await page.click('[data-testid="filters-clear"]');
      await page.fill('[data-testid="search-input"]', "annual zebra");
      await sent("annual zebra");
      await page.waitForSelector('[data-testid="search-results"][data-nearest="true"] [data-testid="search-hit-0"]');
      await audit(page, "search (no close matches)");
      await page.click('[data-testid="tab-library"]');
      await page.click('[data-testid="add-urls"]');
      await audit(page, "url dialog");
      await page.keyboard.press("Escape");
      await page.click('[data-testid="shortcuts-open"]');
      await page.waitForSelector('[data-testid="shortcuts-dialog"][open]');
      await audit(page, "shortcuts dialog");
      await page.keyboard.press("Escape");
      // the Folders dialog: empty, then folders in every state with a Remove being confirmed
      await page.click('[data-testid="folders-open"]');
      await page.waitForSelector('[data-testid="folders-dialog"][open]');
      await audit(page, "folders dialog (empty)");
      for (const n of [1, 2, 3]) {
        await page.click('[data-testid="folders-add"]');
        await page.waitForSelector(`[data-testid="folder-${n}-row"]`);
      }
      await page.evaluate(async () => {
        const f = window.__troveFake;
        await f.backend.setFolderWatching(1, false);
        f.setFolderState(2, "unavailable");
        f.setFolderState(3, "polling");
        await f.backend.addFolder("/home/ada/Code", ["*.md"], ["target/**"]);
      });
      await page.click('[data-testid="folders-close"]');
      await page.click('[data-testid="folders-open"]');
      await page.waitForSelector('[data-testid="folder-4-rules"]');
      await page.click('[data-testid="folder-2-remove"]');
      await page.waitForSelector('[data-testid="folder-2-confirm"]');
      await audit(page, "folders dialog");
      await page.click('[data-testid="folder-4-edit-rules"]');
      await page.fill('[data-testid="folder-4-include"]', "[x");
      await page.click('[data-testid="folder-4-save-rules"]');
      await page.waitForSelector('[data-testid="folder-4-rules-error"]');
      await audit(page, "folders dialog (rules editor)");
      await page.keyboard.press("Escape"); // closes the editor
      await page.keyboard.press("Escape");
      await page.evaluate(() => window.__troveFake.drag("enter", 2));
      await audit(page, "drop overlay");
      // "more like this" needs vectors: a library with them
      const v = await openApp(b.context, srv.url, "fake=states&speed=0&model=indexed");
      await v.page.click('[data-testid="tab-search"]');
      await v.page.fill('[data-testid="search-input"]', "annual report");
      await v.page.click('[data-testid="search-more-0"]');
      await v.page.waitForSelector('[data-testid="similar-bar"]:not([hidden])');
      await v.page.waitForSelector('[data-testid="search-hit-0"]');
      await audit(v.page, "search (more like this)");
    } finally {
      await b.close();
    }
  });
}

for (const scheme of ["light", "dark"]) {
  test(`axe: the Ask view in each state (${scheme})`, async () => {
    const b = await launch({ colorScheme: scheme });
    try {
      const { page } = await openApp(b.context, srv.url, "fake=states&speed=0&model=indexed");
      const fake = (fn, arg) => page.evaluate(fn, arg);
      let n = 0;
      const ask = async (q, state = "done") => {
        await page.fill('[data-testid="ask-input"]', q);
        await page.press('[data-testid="ask-input"]', "Enter");
        await page.waitForSelector(`[data-testid="ask-turn-${n}"][data-state="${state}"]`);
        n += 1;
      };
      await page.click('[data-testid="tab-ask"]');
      await audit(page, "ask (empty)");
      await ask("How is the team hiring plan?");
      await page.waitForSelector('[data-testid="ask-hint"]');
      await audit(page, "ask (no endpoint: top passages and the Settings hint)");
      await fake(async () => {
        await window.__troveFake.backend.setSetting("chat-url", "http://127.0.0.1:11434/v1");
        window.__troveFake.configureAsk({ pauseAfter: 3 });
      });
      await ask("How is the team hiring plan?", "writing");
      await page.waitForFunction(
        () => document.querySelector('[data-testid="ask-turn-1"] [data-testid="ask-answer"]')?.textContent.length > 0,
      );
      await audit(page, "ask (writing)");
      await fake(() => {
        window.__troveFake.configureAsk({ pauseAfter: null });
        window.__troveFake.resumeAsk();
      });
      await page.waitForSelector('[data-testid="ask-turn-1"][data-state="done"]');
      await page.click('[data-testid="ask-turn-1"] [data-testid="ask-cite-1"] >> nth=0');
      await page.waitForSelector('[data-testid="ask-doc-chunk"]');
      await audit(page, "ask (answer, a citation open)");
      await ask("zebra quantum?");
      await page.waitForSelector('[data-testid="ask-turn-2"] [data-testid="ask-dontknow"]');
      await audit(page, "ask (I don't know, the nearest)");
      await fake(() =>
        window.__troveFake.configureAsk({
          error: "the answer endpoint at {endpoint} could not be reached: connection refused",
        }),
      );
      await ask("How is the team hiring plan?", "error");
      await audit(page, "ask (endpoint failed)");
    } finally {
      await b.close();
    }
  });
}

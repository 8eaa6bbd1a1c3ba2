// Browser tests of the Ask view: the BUILT UI (dist/) with the fake backend, in headless
// Debian Chromium via playwright-core (`npm run test:browser` after `npm run build`).
// The fake answers from its own search; with the chat-url setting empty there is no endpoint.
// `__troveFake.configureAsk({ pauseAfter, error, tokenMs })` stops an answer in the middle
// or makes the endpoint fail; `asks()` shows the history each question carried.

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
const ENDPOINT = "http://127.0.0.1:11434/v1";
/** Two passages in fake=states: the annual report (a PDF, page 3) and a link. */
const HIRING = "How is the team hiring plan?";

async function openAsk(query = "fake=states&speed=0", { endpoint = false } = {}) {
  const { page, errors } = await openApp(browser.context, srv.url, query);
  if (endpoint) {
    await page.evaluate((url) => window.__troveFake.backend.setSetting("chat-url", url), ENDPOINT);
  }
  await page.click(tid("tab-ask"));
  return { page, errors };
}

/** Ask `q` with Enter; resolves to the new turn's locator (not waiting for it to finish). */
async function ask(page, q) {
  const n = await page.locator('[data-testid^="ask-turn-"]').count();
  await page.fill(tid("ask-input"), q);
  await page.press(tid("ask-input"), "Enter");
  const turn = page.locator(tid(`ask-turn-${n}`));
  await turn.waitFor();
  return turn;
}

/** Wait until a turn has its outcome. */
const settled = (turn) =>
  turn.evaluate(
    (el) =>
      new Promise((ok) => {
        const done = () => el.dataset.state === "done" || el.dataset.state === "error";
        if (done()) return ok();
        new MutationObserver((_, o) => {
          if (done()) {
            o.disconnect();
            ok();
          }
        }).observe(el, { attributes: true });
      }),
  );

describe("Ask without an answer endpoint", () => {
  test("the top passages, numbered, and a way to Settings that focuses the endpoint", async () => {
    const { page, errors } = await openAsk();
    assert.equal(await page.locator(tid("tab-ask")).getAttribute("aria-selected"), "true");
    assert.ok(await page.locator(tid("ask-empty")).isVisible(), "empty state before the first question");
    const turn = await ask(page, HIRING);
    await settled(turn);
    assert.equal(await turn.locator(tid("ask-question")).innerText(), HIRING);
    assert.equal(await turn.locator(tid("ask-sources-title")).innerText(), "Top passages for your question");
    assert.equal(await turn.locator(tid("ask-answer")).count(), 0, "no answer is written");
    assert.equal(await turn.locator(tid("ask-dontknow")).count(), 0);
    const sources = turn.locator('[data-testid^="ask-source-"][data-n]');
    assert.equal(await sources.count(), 2);
    assert.match(await sources.nth(0).innerText(), /^1\s+Annual report 2025\.pdf/);
    assert.match(await sources.nth(1).innerText(), /^2\s+Local-first software/);
    assert.equal(await turn.locator('[data-cited="true"]').count(), 0);
    const hint = turn.locator(tid("ask-hint"));
    assert.match(
      await hint.innerText(),
      /Set an answer endpoint in Settings — Ollama, llama\.cpp server, LM Studio or OpenAI/,
    );
    assert.match(await page.locator(tid("ask-status")).innerText(), /Top passages for your question: 2/);

    // the hint opens Settings on the endpoint's field; saving one shows the model and key
    await hint.getByRole("button", { name: "Set an answer endpoint in Settings" }).click();
    await page.waitForSelector(`${tid("settings-dialog")}[open]`);
    await page.waitForFunction(() => document.activeElement?.id === "setting-chat-url");
    assert.equal(await page.locator(tid("setting-chat-model-row")).isVisible(), false);
    await page.keyboard.type(ENDPOINT);
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${tid("setting-chat-url-row")}[data-source="stored"]`);
    assert.equal(await page.locator(tid("setting-chat-model-row")).isVisible(), true);
    assert.equal(await page.locator(tid("setting-chat-model")).inputValue(), "llama3.2");
    assert.equal(await page.locator(tid("setting-chat-key")).getAttribute("type"), "password");
    await page.click(tid("settings-close"));
    // now the same question is answered
    const next = await ask(page, HIRING);
    await settled(next);
    assert.match(await next.locator(tid("ask-answer")).innerText(), /the closest passage/);
    assert.equal(await next.locator(tid("ask-hint")).count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("Ask with an answer endpoint", () => {
  test("tokens appear as they stream, with a visible Writing… state, then the whole answer", async () => {
    const { page, errors } = await openAsk(undefined, { endpoint: true });
    await page.evaluate(() => window.__troveFake.configureAsk({ pauseAfter: 3 }));
    const turn = await ask(page, HIRING);
    const answer = turn.locator(tid("ask-answer"));
    // the first three tokens are there, the rest is held back by the fake
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="ask-turn-0"] [data-testid="ask-answer"]')?.textContent.endsWith("closest "),
    );
    assert.equal(await turn.getAttribute("data-state"), "writing");
    assert.equal(await answer.getAttribute("aria-busy"), "true");
    assert.match(await turn.locator(tid("ask-progress")).innerText(), /Writing…/);
    assert.ok(await turn.locator(".ask-caret").isVisible(), "a caret while writing");
    const partial = await answer.innerText();
    assert.equal(partial.trim(), "On “How is the team hiring plan?”, the closest");
    assert.doesNotMatch(partial, /much the same/);
    // the sources are shown while the answer is being written
    assert.equal(await turn.locator(tid("ask-sources-title")).innerText(), "Sources");
    assert.equal(await turn.locator('[data-testid^="ask-source-"][data-n]').count(), 2);
    assert.equal(await page.locator(tid("ask-submit")).isDisabled(), true, "one question at a time");

    await page.evaluate(() => {
      window.__troveFake.configureAsk({ pauseAfter: null });
      window.__troveFake.resumeAsk();
    });
    await settled(turn);
    const whole = await answer.innerText();
    assert.ok(whole.length > partial.length);
    assert.match(whole, /^On “How is the team hiring plan\?”, the closest passage in your library is in Annual report/);
    assert.match(whole, /much the same/);
    assert.equal(await turn.locator(tid("ask-progress")).count(), 0, "Writing… is gone");
    assert.equal(await turn.locator(".ask-caret").count(), 0);
    assert.equal(await answer.getAttribute("aria-busy"), null);
    assert.equal(
      await turn.locator(tid("ask-by")).innerText(),
      `Written by llama3.2 at ${ENDPOINT} from the passages below.`,
    );
    assert.equal(await page.locator(tid("ask-submit")).isDisabled(), false);
    assert.match(await page.locator(tid("ask-status")).innerText(), /Answer written, citing sources 1 and 2\./);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("citations are buttons named by their source that open the passage; a PDF opens at its page", async () => {
    const { page, errors } = await openAsk(undefined, { endpoint: true });
    const turn = await ask(page, HIRING);
    await settled(turn);
    const cite1 = turn.getByRole("button", { name: "Source 1: Annual report 2025.pdf" });
    const cite2 = turn.getByRole("button", { name: "Source 2: Local-first software (copy)" });
    // [1] and later [1, 2]: the first passage is cited twice, the second once and then together
    assert.equal(await cite1.count(), 2);
    assert.equal(await cite2.count(), 2);
    assert.equal(await cite1.first().innerText(), "1");
    // the cited passages are marked in the sources
    for (const n of [1, 2]) {
      const s = turn.locator(tid(`ask-source-${n}`));
      assert.equal(await s.getAttribute("data-cited"), "true");
      assert.ok(await s.locator(".source-cited").isVisible());
    }

    await cite1.first().click();
    const chunk = page.locator(tid("ask-doc-chunk"));
    await chunk.waitFor();
    assert.ok((await chunk.textContent()).length > 0);
    const source1 = turn.locator(tid("ask-source-1-open"));
    assert.equal(await source1.getAttribute("aria-current"), "true");
    assert.equal(await page.locator(tid("ask-doc-open")).innerText(), "Open at page 3");
    assert.match(await page.locator(".ask .doc-loc").innerText(), /Annual report 2025\.pdf · p\. 3$/);
    // the passage the reader shows is the one the citation names
    const passage = await turn.locator(`${tid("ask-source-1")} .source-text`).innerText();
    const shown = (await chunk.innerText()).replace(/\s+/g, " ").trim();
    assert.ok(shown.includes(passage.replace(/…$/, "").replace(/\s+/g, " ").slice(0, 40)), `${shown} has ${passage}`);
    // the reader's Open and the source's own "Open at page" hand the viewer page 3
    await page.click(tid("ask-doc-open"));
    await page.waitForFunction(() => window.__troveFake.opened().length > 0);
    await page.click(tid("ask-source-1-page"));
    await page.waitForFunction(() => window.__troveFake.opened().length > 1);
    const opened = await page.evaluate(() => window.__troveFake.opened());
    for (const cmd of opened) {
      assert.deepEqual(cmd.slice(0, 3), ["evince", "--page-index", "3"]);
      assert.match(cmd[3], /Annual report 2025\.pdf$/);
    }
    // the second citation switches the reader to the link's passage
    await cite2.last().click();
    await page.waitForFunction(() => document.querySelector(".ask .doc-title")?.textContent.startsWith("Local-first"));
    assert.equal(await turn.locator(tid("ask-source-2-open")).getAttribute("aria-current"), "true");
    assert.equal(await source1.getAttribute("aria-current"), null);
    assert.equal(await page.locator(tid("ask-doc-open")).innerText(), "Open in browser");
    // Search's reader is a different one: still empty
    assert.equal(await page.locator(tid("doc-view")).isHidden(), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("a citation number that is not a passage stays text; names and text with HTML stay text", async () => {
    const { page, errors } = await openAsk(undefined, { endpoint: true });
    // 2 passages: [7] and [9] are not among them, [1] and [2] are
    await page.evaluate(() =>
      window.__troveFake.configureAsk({ answer: "[1] Hiring is slow; the plan is in [7] and [2, 9]. Also [12][2]" }),
    );
    const turn = await ask(page, HIRING);
    await settled(turn);
    const answer = turn.locator(tid("ask-answer"));
    // the text as written (a group's numbers one by one), the citations as buttons
    assert.equal(await answer.innerText(), "[1] Hiring is slow; the plan is in [7] and [2][9]. Also [12][2]");
    assert.deepEqual(await answer.locator("button").allInnerTexts(), ["1", "2", "2"]);
    assert.equal(await answer.locator(tid("ask-cite-7")).count(), 0);
    assert.equal(await answer.locator(tid("ask-cite-9")).count(), 0);
    assert.deepEqual(await answer.locator("button").evaluateAll((bs) => bs.map((b) => b.getAttribute("aria-label"))), [
      "Source 1: Annual report 2025.pdf",
      "Source 2: Local-first software (copy)",
      "Source 2: Local-first software (copy)",
    ]);
    await page.evaluate(() => window.__troveFake.configureAsk({ answer: null }));
    // the probe document's name is an <img onerror> and its text holds a <script>
    const probe = await ask(page, "What is the probe?");
    await settled(probe);
    assert.match(await probe.innerText(), /<img src=x onerror="window\.__pwned=1">/);
    assert.match(await probe.innerText(), /<script>window\.__pwned=1<\/script>/);
    assert.equal(await page.locator("#app img").count(), 0);
    assert.equal(await page.locator("#app script").count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("nothing close: I don't know, and the nearest passages, quieter", async () => {
    const { page, errors } = await openAsk("fake=states&speed=0&model=indexed", { endpoint: true });
    const turn = await ask(page, "zebra quantum?");
    await settled(turn);
    assert.equal(
      await turn.locator(tid("ask-dontknow")).innerText(),
      "I don't know — nothing in your library is close to this question.",
    );
    assert.equal(await turn.locator(tid("ask-answer")).count(), 0);
    assert.equal(await turn.locator(tid("ask-sources-title")).innerText(), "The nearest passages:");
    assert.equal(await turn.locator("ol.sources.nearest").count(), 1);
    assert.equal(await turn.locator('[data-testid^="ask-source-"][data-n]').count(), 3);
    assert.equal(await turn.locator(tid("ask-hint")).count(), 0);
    // the nearest still open
    await turn.locator(tid("ask-source-2-open")).click();
    await page.locator(tid("ask-doc-chunk")).waitFor();
    // a question nothing in the library is about, without vectors: no passages at all
    const plain = await openAsk("fake=states&speed=0", { endpoint: true });
    const none = await ask(plain.page, "zebra quantum?");
    await settled(none);
    assert.ok(await none.locator(tid("ask-dontknow")).isVisible());
    assert.equal(await none.locator('[data-testid^="ask-source-"][data-n]').count(), 0);
    assert.deepEqual(errors, []);
    assert.deepEqual(plain.errors, []);
    await page.close();
    await plain.page.close();
  });

  test("the endpoint fails: its error as an alert above the passages, which stay", async () => {
    const { page, errors } = await openAsk(undefined, { endpoint: true });
    await page.evaluate(() =>
      window.__troveFake.configureAsk({
        error: "the answer endpoint at {endpoint} could not be reached: connection refused",
      }),
    );
    const turn = await ask(page, HIRING);
    await settled(turn);
    assert.equal(await turn.getAttribute("data-state"), "error");
    const alert = turn.getByRole("alert");
    assert.equal(
      await alert.innerText(),
      `No answer: the answer endpoint at ${ENDPOINT} could not be reached: connection refused`,
    );
    assert.equal(await turn.locator(tid("ask-answer")).count(), 0);
    assert.equal(await turn.locator(tid("ask-sources-title")).innerText(), "Top passages for your question");
    assert.equal(await turn.locator('[data-testid^="ask-source-"][data-n]').count(), 2);
    // above the passages
    const above = await turn.evaluate((el) => {
      const a = el.querySelector('[role="alert"]');
      const s = el.querySelector('[data-testid="ask-sources"]');
      return Boolean(a.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    assert.ok(above, "the alert comes before the passages");
    // the endpoint is back: the next question is answered, the failed one sent no history
    await page.evaluate(() => window.__troveFake.configureAsk({ error: null }));
    const next = await ask(page, HIRING);
    await settled(next);
    assert.equal(await next.getAttribute("data-state"), "done");
    assert.deepEqual(await page.evaluate(() => window.__troveFake.asks().map((a) => a.history.length)), [0, 0]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("follow-ups send the last three answered turns; New conversation forgets them", async () => {
    const { page, errors } = await openAsk(undefined, { endpoint: true });
    await page.evaluate(() => window.__troveFake.configureAsk({ tokenMs: 0 }));
    const questions = [
      "How is the team hiring plan?",
      "What about the budget?",
      "And the roadmap?",
      "What about latency and memory?",
      "Which revenue report?",
    ];
    for (const q of questions) await settled(await ask(page, q));
    const asks = await page.evaluate(() => window.__troveFake.asks());
    assert.deepEqual(
      asks.map((a) => a.question),
      questions,
    );
    assert.deepEqual(
      asks.map((a) => a.history.length),
      [0, 1, 2, 3, 3],
    );
    // the last three, oldest first, each with the answer as it was written
    const last = asks[4].history;
    assert.deepEqual(
      last.map((t) => t.question),
      questions.slice(1, 4),
    );
    // (a group [1, 2] is shown as [1][2])
    const answers = await page.locator(tid("ask-answer")).allInnerTexts();
    assert.deepEqual(
      last.map((t) => t.answer.replace(/\[(\d+), (\d+)\]/g, "[$1][$2]")),
      answers.slice(1, 4),
    );
    assert.match(answers[1], /^Following up on “How is the team hiring plan\?”/);

    // New conversation: the turns go, the next question carries nothing
    await page.click(tid("ask-new"));
    assert.equal(await page.locator('[data-testid^="ask-turn-"]').count(), 0);
    assert.ok(await page.locator(tid("ask-empty")).isVisible());
    assert.equal(await page.locator(tid("ask-new")).isDisabled(), true);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "ask-input");
    const fresh = await ask(page, "What about the budget?");
    await settled(fresh);
    assert.equal(await page.evaluate(() => window.__troveFake.asks().at(-1).history.length), 0);
    assert.doesNotMatch(await fresh.locator(tid("ask-answer")).innerText(), /Following up/);
    assert.equal(await page.locator(tid("ask-new")).isDisabled(), false);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("New conversation while an answer is being written drops it", async () => {
    const { page, errors } = await openAsk(undefined, { endpoint: true });
    await page.evaluate(() => window.__troveFake.configureAsk({ pauseAfter: 2 }));
    await ask(page, HIRING);
    await page.waitForSelector(`${tid("ask-turn-0")}[data-state="writing"]`);
    await page.click(tid("ask-new"));
    await page.evaluate(() => {
      window.__troveFake.configureAsk({ pauseAfter: null });
      window.__troveFake.resumeAsk();
    });
    await page.waitForTimeout(600);
    assert.equal(await page.locator('[data-testid^="ask-turn-"]').count(), 0);
    assert.equal(await page.locator(tid("ask-submit")).isDisabled(), false);
    const turn = await ask(page, "What about the budget?");
    await settled(turn);
    assert.equal(await page.evaluate(() => window.__troveFake.asks().at(-1).history.length), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("getting to Ask", () => {
  test("Ctrl+J opens Ask with the box focused; the tabs are an arrow-key group of three", async () => {
    const { page, errors } = await openApp(browser.context, srv.url, "fake=states&speed=0");
    await page.keyboard.press("Control+j");
    assert.equal(await page.locator(tid("tab-ask")).getAttribute("aria-selected"), "true");
    assert.equal(await page.locator("#panel-ask").isVisible(), true);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "ask-input");
    assert.match(await page.locator(tid("tab-ask")).getAttribute("title"), /Ctrl\+J/);
    // Shift+Enter is a new line, not a question
    await page.keyboard.type("first line");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("second");
    assert.equal(await page.locator(tid("ask-input")).inputValue(), "first line\nsecond");
    assert.equal(await page.locator('[data-testid^="ask-turn-"]').count(), 0);
    // an empty question is not sent
    await page.fill(tid("ask-input"), "   ");
    await page.click(tid("ask-submit"));
    assert.equal(await page.locator('[data-testid^="ask-turn-"]').count(), 0);

    await page.locator(tid("tab-ask")).focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.locator(tid("tab-library")).getAttribute("aria-selected"), "true");
    await page.keyboard.press("ArrowLeft");
    assert.equal(await page.locator(tid("tab-ask")).getAttribute("aria-selected"), "true");
    await page.keyboard.press("ArrowLeft");
    assert.equal(await page.locator(tid("tab-search")).getAttribute("aria-selected"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "tab-search");
    await page.keyboard.press("End");
    assert.equal(await page.locator(tid("tab-ask")).getAttribute("aria-selected"), "true");
    await page.keyboard.press("Home");
    assert.equal(await page.locator(tid("tab-library")).getAttribute("aria-selected"), "true");
    assert.equal(await page.locator("#panel-ask").isVisible(), false);
    // the conversation stays while other views are shown
    await page.click(tid("tab-ask"));
    await page.fill(tid("ask-input"), HIRING);
    await page.press(tid("ask-input"), "Enter");
    await settled(page.locator(tid("ask-turn-0")));
    await page.click(tid("tab-search"));
    await page.click(tid("tab-ask"));
    assert.equal(await page.locator('[data-testid^="ask-turn-"]').count(), 1);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

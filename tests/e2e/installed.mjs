// The installed package, opened as from the menu: the app binary from the unpacked .deb, an
// empty HOME, no TROVE_* variable (package.sh starts tauri-driver with that environment).
// Files were added and processed by the package's own CLI; the window must find one of
// them by meaning alone, with the model the package carries.
//
// Then a PDF hit opens at its page in the desktop's viewer, and a setting is saved.
//
// env: TROVE_APP (the unpacked /usr/bin/trove), WD_URL, ART (screenshots), MEANING_ITEM,
//      PDF_ITEM, OPENED (the log the stand-in viewer writes)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WebDriver, waitFor } from "./wd.mjs";

const wd = new WebDriver(process.env.WD_URL);
const sel = (id) => `[data-testid="${id}"]`;

try {
  const t0 = Date.now();
  await wd.start(process.env.TROVE_APP);
  await waitFor("the window's tabs", () => wd.findAll(sel("tab-search")).then((r) => r[0]), { timeout: 30000 });
  await waitFor("the library loaded", () => wd.execute("return window.__trove && window.__trove.ready ? 1 : null;"), {
    timeout: 30000,
  });
  // A measurement (BENCHMARKS.md), not a check: WebDriver session start to a ready window.
  console.log(`measured: start to a ready window (library listed) ${Date.now() - t0} ms`);
  await wd.click(await wd.find(sel("tab-search")));
  const input = await wd.find(sel("search-input"));
  // The file says "canine companions" and "fetch"; the query shares no word with it.
  const query = "dog";
  await wd.type(input, `${query}\uE007`);
  const hit = await waitFor(
    "a search hit",
    async () => (await wd.findAll(`${sel("search-results")}[data-query="${query}"] ${sel("search-hit-0")}`))[0],
    { timeout: 30000 },
  );
  const item = await wd.attr(hit, "data-item-id");
  await wd.screenshot(join(process.env.ART, "installed-semantic-search.png"));
  const notice = await wd.execute(
    `const e = document.querySelector('[data-testid="search-notice"]'); return e ? e.innerText : "";`,
  );
  if (/Semantic search is off/.test(notice)) throw new Error(`no model in the installed app: ${notice}`);
  if (item !== process.env.MEANING_ITEM) throw new Error(`first hit is ${item}, expected ${process.env.MEANING_ITEM}`);
  console.log(`ok: the installed window found ${item} for "${query}" by meaning`);

  // A PDF hit on its second page: "Open at page 2" starts the viewer at that page.
  await wd.execute(`const i = document.querySelector('[data-testid="search-input"]'); i.value = "";`);
  await wd.type(input, "gallimaufry\uE007");
  const pdfHit = await waitFor(
    "the PDF hit",
    async () => (await wd.findAll(`${sel("search-results")}[data-query="gallimaufry"] ${sel("search-hit-0")}`))[0],
    { timeout: 30000 },
  );
  if ((await wd.attr(pdfHit, "data-item-id")) !== process.env.PDF_ITEM) throw new Error("the PDF is not the first hit");
  await wd.click(pdfHit);
  const label = () =>
    wd.execute(`const b = document.querySelector('[data-testid="doc-open"]'); return b ? b.textContent : "";`);
  await waitFor("Open at page 2", async () => /page 2/.test(await label()) || null).catch(async (e) => {
    await wd.screenshot(join(process.env.ART, "installed-open-pdf-failed.png"));
    throw new Error(`${e.message}; the button says "${await label()}"`);
  });
  const open = await wd.find(sel("doc-open"));
  await wd.click(open);
  const line = await waitFor("the viewer started", () => {
    const log = readFileSync(process.env.OPENED, "utf8");
    return log.split("\n").find((l) => l.startsWith("evince "));
  });
  if (!/^evince --page-index 2 \/.*report\.pdf$/.test(line)) throw new Error(`viewer started as: ${line}`);
  await wd.screenshot(join(process.env.ART, "installed-open-pdf.png"));
  console.log(`ok: ${line}`);

  // Settings: a value saved here is stored in the library (package.sh reads it back with the CLI).
  await wd.click(await wd.find(sel("settings-open")));
  const rate = await waitFor("the settings dialog", async () => (await wd.findAll(sel("setting-rate-limit")))[0]);
  await wd.execute(`document.querySelector('[data-testid="setting-rate-limit"]').value = "";`);
  await wd.type(rate, "0.5\uE007");
  await waitFor("rate-limit saved", async () =>
    (await wd.findAll(`${sel("setting-rate-limit-row")}[data-source="stored"]`))[0],
  );
  await wd.screenshot(join(process.env.ART, "installed-settings.png"));

  // The page cannot choose a program to run: the PDF viewer is set in a terminal only.
  const refused = await wd.executeAsync(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke("set_setting", { name: "pdf-viewer", value: "sh -c id" })
       .then(() => done("accepted"), (e) => done(e && e.code));`,
  );
  if (refused !== "invalid") throw new Error(`set_setting pdf-viewer from the page: ${refused}`);
} finally {
  await wd.quit().catch(() => {});
}

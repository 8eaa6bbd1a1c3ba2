// The installed package, opened as from the menu: the app binary from the unpacked .deb, an
// empty HOME, no TROVE_* variable (package.sh starts tauri-driver with that environment).
// Files were added and processed by the package's own CLI; the window must find one of
// them by meaning alone, with the model the package carries.
//
// env: TROVE_APP (the unpacked /usr/bin/trove), WD_URL, ART (screenshots), MEANING_ITEM
import { join } from "node:path";
import { WebDriver, waitFor } from "./wd.mjs";

const wd = new WebDriver(process.env.WD_URL);
const sel = (id) => `[data-testid="${id}"]`;

try {
  await wd.start(process.env.TROVE_APP);
  await waitFor("the window's tabs", () => wd.findAll(sel("tab-search")).then((r) => r[0]), { timeout: 30000 });
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
} finally {
  await wd.quit().catch(() => {});
}

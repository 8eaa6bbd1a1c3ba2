// End-to-end test of the real Trove window through tauri-driver (WebKitWebDriver).
// Started by run.sh, which builds everything, prepares a throw-away database with files
// already added by the CLI, and starts Xvfb + tauri-driver. Exits non-zero on any failure.
//
// env: TROVE_APP (binary), TROVE_DB, WD_URL, E2E_DIR (test files), ART (screenshots),
//      DOCS_SCREENSHOT (optional: where to save the all-states screenshot)
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WebDriver, appPid, sleep, waitFor } from "./wd.mjs";

const APP = process.env.TROVE_APP;
const DB = process.env.TROVE_DB;
const DIR = process.env.E2E_DIR;
const ART = process.env.ART;
const wd = new WebDriver(process.env.WD_URL);

const cli = (...args) => execFileSync(APP, ["--db", DB, "--json", ...args], { encoding: "utf8" });
const sel = (id) => `[data-testid="${id}"]`;
let shot = 0;
const screenshot = (name) => wd.screenshot(join(ART, `${String(++shot).padStart(2, "0")}-${name}.png`));

/** Calls a Tauri command from the page, as the UI does. */
async function invoke(cmd, args) {
  const r = await wd.executeAsync(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(
       (v) => done({ ok: v === undefined ? null : v }),
       (e) => done({ err: e }));`,
    [cmd, args ?? {}],
  );
  if ("err" in r) throw new Error(`${cmd} rejected: ${JSON.stringify(r.err)}`);
  return r.ok;
}

/** Rendered text of the first element matching `css` ("" when none). */
const textOf = (css) =>
  wd.execute(`const e = document.querySelector(arguments[0]); return e ? (e.innerText || e.textContent || "") : "";`, [css]);

async function rowStatus(id) {
  const els = await wd.findAll(sel(`row-${id}`));
  return els.length ? wd.attr(els[0], "data-status") : null;
}

async function waitStatus(id, status, timeout = 30000) {
  await waitFor(`${id} to be ${status}`, async () => (await rowStatus(id)) === status, { timeout });
}

/** A local page that answers after 25 s: keeps one item Processing. */
async function slowServer() {
  const server = createServer((req, res) => {
    if (req.url === "/robots.txt") return res.writeHead(404).end();
    const t = setTimeout(() => res.writeHead(200, { "content-type": "text/html" }).end("<title>Slow</title>slow"), 25000);
    res.on("close", () => clearTimeout(t));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return server;
}


const steps = [];
async function step(name, fn) {
  const t0 = Date.now();
  process.stdout.write(`• ${name} … `);
  try {
    await fn();
    console.log(`ok (${Date.now() - t0} ms)`);
    steps.push({ name, ok: true });
  } catch (e) {
    console.log("FAILED");
    steps.push({ name, ok: false });
    try {
      await screenshot(`FAILED-${name.replace(/\W+/g, "-")}`);
    } catch {}
    throw e;
  }
}

async function main() {
  const items = JSON.parse(cli("list"));
  const byName = (n) => items.find((i) => i.name === n)?.id;
  const good = [byName("alpha.txt"), byName("notes.md")];
  const pdf = byName("broken.pdf");
  if (good.some((g) => !g) || !pdf) throw new Error(`pre-added items missing: ${JSON.stringify(items)}`);

  await step("start the app", async () => {
    await wd.start(APP, ["--db", DB]);
    await wd.setTimeouts({ script: 20000, implicit: 0 });
    await waitFor("the first render", async () =>
      (await wd.execute(`return document.documentElement.dataset.ready === "true"`)),
    );
    // Marker: gone if the page ever reloads.
    await wd.execute(`window.__e2eMarker = 42;`);
    await screenshot("started");
  });

  await step("good files reach Completed", async () => {
    for (const id of good) await waitStatus(id, "completed", 60000);
    const badge = await textOf(sel(`badge-${good[0]}`));
    if (!/Completed/.test(badge)) throw new Error(`badge says ${badge}`);
  });

  let before;
  await step("the corrupt PDF reaches Failed with its message visible", async () => {
    await waitStatus(pdf, "failed", 60000);
    const err = await wd.find(sel(`error-${pdf}`));
    const msg = await textOf(sel(`error-${pdf}`));
    if (!msg.trim() || !(await wd.displayed(err))) throw new Error(`error not visible: "${msg}"`);
    before = (await invoke("list_items", { status: "failed" })).find((i) => i.id === pdf);
    if (!before || before.attempts < 1) throw new Error(`bad row: ${JSON.stringify(before)}`);
    console.log(`\n    error: "${msg}" (attempts ${before.attempts}, job ${before.jobId})`);
    await screenshot("completed-and-failed");
  });

  await step("Retry: Failed → Pending → Failed again on a new attempt", async () => {
    // Pause so the Pending state can be seen, then resume.
    await invoke("set_paused", { paused: true });
    await wd.click(await wd.find(sel(`retry-${pdf}`)));
    await waitStatus(pdf, "pending", 10000);
    const pending = (await invoke("list_items", { status: "pending" })).find((i) => i.id === pdf);
    if (!pending || pending.jobId === before.jobId) throw new Error(`no new job: ${JSON.stringify(pending)}`);
    await screenshot("retry-pending");
    await invoke("set_paused", { paused: false });
    await waitStatus(pdf, "failed", 60000);
    const after = (await invoke("list_items", { status: "failed" })).find((i) => i.id === pdf);
    // A retry is a new job with a fresh budget: its attempt counter runs again from 0 (pending) to 1.
    if (pending.attempts !== 0 || after.attempts < 1 || after.jobId !== pending.jobId)
      throw new Error(`attempts: before ${before.attempts}, pending ${pending.attempts}, after ${after.attempts}`);
    if (!(await textOf(sel(`error-${pdf}`))).trim()) throw new Error("error text gone");
    await screenshot("retry-failed-again");
  });

  await step("search finds a word from a good file", async () => {
    await wd.click(await wd.find(sel("tab-search")));
    const input = await wd.find(sel("search-input"));
    await wd.type(input, "quetzalcoatl\uE007");
    const hit = await waitFor("a search hit", async () => {
      const r = await wd.findAll(`${sel("search-results")}[data-query="quetzalcoatl"] ${sel("search-hit-0")}`);
      return r[0];
    });
    const item = await wd.attr(hit, "data-item-id");
    if (item !== good[0]) throw new Error(`first hit is ${item}, expected ${good[0]}`);
    const snippet = await textOf(`${sel("search-hit-0")} ${sel("search-snippet")}`);
    if (!/quetzalcoatl/i.test(snippet)) throw new Error(`snippet: ${snippet}`);
    await screenshot("search");
    await wd.click(await wd.find(sel("tab-library")));
  });

  await step("Ask without an endpoint shows the top passages, streamed through a real Channel", async () => {
    await wd.click(await wd.find(sel("tab-ask")));
    const input = await wd.find(sel("ask-input"));
    await wd.type(input, "quetzalcoatl\uE007");
    const title = await waitFor("the passages", async () => {
      const t = await wd.findAll(`${sel("ask-turn-0")}[data-state="done"] ${sel("ask-sources-title")}`);
      return t[0] ? (await textOf(`${sel("ask-turn-0")} ${sel("ask-sources-title")}`)) : null;
    }, { timeout: 20000 });
    if (!/Top passages for your question/.test(title)) throw new Error(`sources title: ${title}`);
    if (!/quetzalcoatl/i.test(await textOf(sel("ask-source-1"))))
      throw new Error(`first passage: ${await textOf(sel("ask-source-1"))}`);
    if (!(await wd.findAll(sel("ask-hint"))).length) throw new Error("no hint to set an endpoint");
    await wd.click(await wd.find(sel("ask-source-1-open")));
    await waitFor("the passage in the reader", async () => (await wd.findAll(sel("ask-doc-view")))[0]);
    await screenshot("ask");
    await wd.click(await wd.find(sel("tab-library")));
  });

  await step("a file added by the CLI while the app runs appears without reload", async () => {
    const f = join(DIR, "late.txt");
    writeFileSync(f, "Added while the window is open. Zyzzyva.\n");
    const added = JSON.parse(cli("add", f)).added[0].id;
    const t0 = Date.now();
    await waitFor("the new row", async () => (await rowStatus(added)) !== null, { timeout: 5000, every: 20 });
    console.log(`\n    row visible after ${Date.now() - t0} ms`);
    await waitStatus(added, "completed", 60000);
    if ((await wd.execute(`return window.__e2eMarker`)) !== 42) throw new Error("the page reloaded");
  });

  /**
   * A real OS drag: a GTK window offers `paths` as text/uri-list; xdotool drags them onto
   * Trove's window, so they arrive through the app's real drop handler (XDND under Xvfb).
   * Returns the drag source process (kill it when done).
   */
  async function osDrag(paths) {
    const src = spawn("/usr/bin/python3", [join(import.meta.dirname, "drag.py"), ...paths], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise((resolve, reject) => {
      src.stdout.on("data", (d) => String(d).includes("ready") && resolve());
      src.on("exit", (code) => reject(new Error(`drag source exited (${code})`)));
      setTimeout(() => reject(new Error("drag source never showed")), 15000);
    });
    await sleep(300);
    const path = [[1180, 740], [1150, 720], [1100, 680], [900, 560], [700, 430], [640, 400], [630, 390]];
    const args = ["mousemove", "1180", "740", "mousedown", "1"];
    for (const [x, y] of path.slice(1)) args.push("sleep", "0.15", "mousemove", String(x), String(y));
    args.push("sleep", "0.3", "mouseup", "1");
    execFileSync("xdotool", args);
    return src;
  }

  await step("a real OS drag-and-drop adds files and reports the skipped one", async () => {
    const fresh = join(DIR, "dropped.txt");
    writeFileSync(fresh, "Dropped from another window. Axolotl.\n");
    const known = join(DIR, "alpha.txt"); // added by the CLI before the app started
    const src = await osDrag([fresh, known]);
    try {
      const id = await waitFor("the dropped file's row", async () => {
        const all = await invoke("list_items", { status: null });
        const it = all.find((i) => i.name === "dropped.txt");
        return it && (await rowStatus(it.id)) ? it.id : null;
      }, { timeout: 15000 });
      await waitFor("the skipped file reported", async () =>
        /already in the library/.test(await textOf("body")), { timeout: 5000 });
      await screenshot("dropped");
      await waitStatus(id, "completed", 60000);
    } finally {
      src.kill();
    }
  });

  await step("a dropped folder is watched: a file edited on disk is queued again → Completed", async () => {
    const dir = join(DIR, "watched");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "journal.txt");
    writeFileSync(file, "First entry about an ibexine.\n");
    const src = await osDrag([dir]);
    let id;
    try {
      id = await waitFor("the watched folder's file", async () => {
        const all = await invoke("list_items", { status: null });
        const it = all.find((i) => i.name === "journal.txt");
        return it && (await rowStatus(it.id)) ? it.id : null;
      }, { timeout: 15000 });
    } finally {
      src.kill();
    }
    const folders = await invoke("list_folders");
    if (!folders.some((f) => f.path === dir && f.watching)) throw new Error(`not watched: ${JSON.stringify(folders)}`);
    await waitStatus(id, "completed", 60000);
    // Edited outside Trove: the watcher queues it again (same item, a new job), the badge
    // shows it, and the new text is found. The queue is paused meanwhile so the badge can be
    // seen: a small text file is processed within one frame otherwise.
    const before = (await invoke("list_items", { status: null })).find((i) => i.id === id);
    await invoke("set_paused", { paused: true });
    writeFileSync(file, "Second entry about an oryxine.\n");
    await waitStatus(id, "pending", 15000);
    await screenshot("watched-folder-edit");
    await invoke("set_paused", { paused: false });
    await waitStatus(id, "completed", 60000);
    const after = (await invoke("list_items", { status: null })).find((i) => i.id === id);
    if (!after || after.jobId === before.jobId) throw new Error(`not processed again: ${JSON.stringify(after)}`);
    const r = await invoke("search", { query: "oryxine", limit: 5 });
    if (r.hits[0]?.itemId !== id) throw new Error(`the edit is not searchable: ${JSON.stringify(r.hits)}`);
  });

  let urlId;
  await step("add_urls through the Add URLs dialog appears at once (events)", async () => {
    await wd.click(await wd.find(sel("add-urls")));
    await wd.type(await wd.find(sel("url-input")), "http://127.0.0.1:9/never-there");
    await wd.click(await wd.find(sel("url-submit")));
    urlId = await waitFor("the URL row", async () => {
      const all = await invoke("list_items", { status: null });
      const u = all.find((i) => i.kind === "url");
      return u && (await rowStatus(u.id)) ? u.id : null;
    });
    if ((await wd.execute(`return window.__e2eMarker`)) !== 42) throw new Error("the page reloaded");
    await screenshot("url-added");
  });

  if (process.env.DOCS_SCREENSHOT) {
    await step("screenshot with items in every state", async () => {
      const server = await slowServer();
      try {
        const { port } = server.address();
        await invoke("add_urls", { urls: [`http://127.0.0.1:${port}/handbook/getting-started`] });
        const slow = await waitFor("a processing row", async () => {
          const p = await invoke("list_items", { status: "processing" });
          return p[0]?.id;
        });
        await invoke("set_paused", { paused: true });
        for (const n of ["quarterly-report.md", "reading-list.txt", "meeting-notes.md"]) {
          const f = join(DIR, n);
          writeFileSync(f, `# ${n}\n\nSome words to index later.\n`);
          cli("add", f);
        }
        await waitFor("pending rows", async () => (await invoke("list_items", { status: "pending" })).length >= 3);
        await waitStatus(slow, "processing");
        // The unreachable link is retried with backoff for a while; delete it (tests the
        // itemDeleted event too).
        if (urlId) {
          await invoke("delete_item", { id: urlId });
          await waitFor("the URL row to go", async () => (await rowStatus(urlId)) === null);
        }
        await sleep(300);
        await wd.screenshot(process.env.DOCS_SCREENSHOT);
        await screenshot("all-states");
        await invoke("delete_item", { id: slow });
      } finally {
        server.closeAllConnections?.();
        server.close();
        await invoke("set_paused", { paused: false }).catch(() => {});
      }
    });
  }

  await step("SIGTERM: graceful exit releases the in-flight job (not lost, attempt not counted)", async () => {
    const server = await slowServer();
    try {
      const { port } = server.address();
      const added = (await invoke("add_urls", { urls: [`http://127.0.0.1:${port}/slow-${Date.now()}`] })).added[0].id;
      await waitStatus(added, "processing", 30000);
      const pid = appPid(APP, DB);
      if (!pid) throw new Error("app process not found");
      const t0 = Date.now();
      process.kill(pid, "SIGTERM");
      await waitFor("the app to exit", async () => {
        try {
          process.kill(pid, 0);
          return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
        } catch {
          return true;
        }
      }, { timeout: 20000 });
      const row = JSON.parse(cli("list")).find((i) => i.id === added);
      console.log(`\n    exited after ${Date.now() - t0} ms; ${added} is ${row.status} (attempts ${row.attempts})`);
      if (row.status !== "pending" || row.attempts !== 0) throw new Error(`after exit: ${JSON.stringify(row)}`);
    } finally {
      server.closeAllConnections?.();
      server.close();
    }
  });
}

let code = 0;
try {
  await main();
} catch (e) {
  console.error(`\nE2E FAILED: ${e.stack || e}`);
  code = 1;
} finally {
  await wd.quit().catch(() => {});
}
console.log(`${steps.filter((s) => s.ok).length}/${steps.length} steps passed`);
process.exit(code);

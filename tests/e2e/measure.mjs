// Driven by measure.sh. Prints PSS of the app's processes and add→visible latency.
import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { WebDriver, appPid, sleep, waitFor } from "./wd.mjs";

const run = promisify(execFile);
const APP = process.env.TROVE_APP;
const DB = process.env.TROVE_DB;
const wd = new WebDriver(process.env.WD_URL);


function children(pid) {
  const out = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(p), ...children(Number(p)));
    } catch {}
  }
  return out;
}

function pss(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = Number(/^Pss:\s+(\d+)/m.exec(t)[1]);
  const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  return { pid, name, mb: kb / 1024 };
}

function memory() {
  const main = appPid(APP, DB);
  if (!main) throw new Error("app process not found");
  const procs = [main, ...children(main)].map(pss);
  return { total: procs.reduce((a, p) => a + p.mb, 0), procs };
}

const count = () => wd.execute(`return window.__trove && window.__trove.ready ? window.__trove.store.view().length : -1`);

const result = {};
try {
  await wd.start(APP, ["--db", DB]);
  await wd.setTimeouts({ script: 60000 });
  const tStart = Date.now();
  await waitFor("10,000 rows", async () => (await count()) >= 10000, { timeout: 60000 });
  result.load10kMs = Date.now() - tStart;
  await sleep(5000);
  const idle = memory();
  result.idlePssMb = Math.round(idle.total);
  result.procs = idle.procs.map((p) => `${p.name}:${p.pid}=${p.mb.toFixed(0)}MB`);
  await wd.screenshot(join(process.env.ART ?? "/tmp", "measure-10k.png")).catch(() => {});

  // 1,000 files added by the CLI into the same database while the app runs.
  const base = await count();
  const watcher = wd.executeAsync(
    `const [want, done] = [arguments[0], arguments[arguments.length - 1]];
     const tick = () => {
       const s = window.__trove.store;
       const v = s.view();
       if (v.length >= want && document.querySelector('[data-testid="row-' + v[0] + '"]')) {
         done(performance.timeOrigin + performance.now());
       } else requestAnimationFrame(tick);
     };
     tick();`,
    [base + 1000],
  );
  await sleep(300);
  const t0 = Date.now();
  await run(APP, ["--db", DB, "add", join(process.env.E2E_DIR, "late")]);
  const tCli = Date.now();
  const t1 = await watcher;
  result.add1000CliMs = tCli - t0;
  result.add1000VisibleMs = Math.round(t1 - t0);
  await sleep(3000);
  result.pssAfter11kMb = Math.round(memory().total);
} finally {
  await wd.quit().catch(() => {});
}
console.log(`app PSS idle with 10,000 items: ${result.idlePssMb} MB (${result.procs.join(", ")})`);
console.log(`10,000 rows listed ${result.load10kMs} ms after session start`);
console.log(`1,000 files added (CLI, ${result.add1000CliMs} ms) → all rows in the UI: ${result.add1000VisibleMs} ms`);
console.log(`app PSS with 11,000 items after that: ${result.pssAfter11kMb} MB`);
console.log(`MEASURE_JSON=${JSON.stringify(result)}`);

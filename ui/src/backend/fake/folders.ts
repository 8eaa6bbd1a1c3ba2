// Watched folders (`list_folders`, `add_folder`, `rescan_folder`, `set_folder_rules`, …): a
// folder kept in sync with its files. There is no disk here: a folder's files are generated
// when it is added (with those its rules leave out), and what a later rescan finds changed
// is staged by the `changeFolder` hook. A scan applies the folder's globs (glob.ts), so new
// rules remove the items of files they leave out and add those they let in; with the
// keep-missing setting the items of deleted files stay, marked missing. The "Add folder"
// dialog watches what it picks, as Rust's `add_folder_dialog` does (with the folder-sync
// setting off it adds the files once).
import type { AddReport, Folder, Item, ScanReport, Skipped } from "../types";
import { randomFile } from "./content";
import { delay, err, iso } from "./data";
import { folderRules } from "./glob";
import { FAKE_DATABASE, switchOn } from "./settings";
import { type FakeFolder, type FakeState, type FolderChanges, type ItemSpec, removeItem, update } from "./state";
import { addItems, enqueue } from "./worker";

/** What the fake "Add folder" dialog picks: the first of these not watched yet. */
export const FOLDER_PICKS: readonly { path: string; files: number; skipped: Record<string, number> }[] = [
  { path: "/home/ada/Documents/Projects", files: 12, skipped: { images: 214, empty: 1 } },
  { path: "/home/ada/Notes", files: 8, skipped: {} },
  { path: "/home/ada/Papers", files: 5, skipped: { archives: 2, videos: 1 } },
];

/** The engine's sentences (library::folders, trove_runtime::watch). */
export const unavailableMessage = (path: string) =>
  `${path} is not there (an unplugged drive, or moved or deleted?); its items are kept until it is back`;
export const POLLING_MESSAGE =
  "the system's limit of watched folders is reached (raise fs.inotify.max_user_watches): checking for changes every minute instead";

const SUBFOLDERS = ["", "", "notes/", "2024/", "drafts/"];
const NO_CHANGES: FolderChanges = { added: 0, changed: 0, removed: 0, renamed: 0 };

function folderOf(s: FakeState, id: number): FakeFolder {
  const f = s.folders.get(id);
  if (!f) throw err("not_found", `no watched folder ${id}`);
  return f;
}

function live(s: FakeState, f: FakeFolder): string[] {
  f.items = f.items.filter((id) => s.items.has(id));
  return f.items;
}

export function folderView(s: FakeState, f: FakeFolder): Folder {
  return {
    id: f.id,
    path: f.path,
    include: [...f.include],
    exclude: [...f.exclude],
    watching: f.watching,
    state: f.state,
    message: f.message,
    files: live(s, f).length,
    skipped: { ...f.skipped },
    lastScan: f.lastScanAt === null ? null : iso(f.lastScanAt),
    lastScanMs: f.lastScanMs,
  };
}

/** Every file path in the library or on a folder's "disk" (a new file needs a fresh one). */
function takenPaths(s: FakeState): Set<string> {
  const taken = new Set<string>();
  for (const it of s.items.values()) if (it.kind === "file") taken.add(it.location);
  for (const f of s.folders.values()) for (const p of f.disk.keys()) taken.add(p);
  return taken;
}

/** The path of a file inside the folder, from its root ("notes/a.md"). */
const relative = (f: FakeFolder, location: string) => location.slice(f.path.length + 1);

/**
 * Put new files on the folder's "disk" until `n` of them are ones its rules let in (those
 * it leaves out are there too: a rules change can let them in).
 */
function createFiles(s: FakeState, f: FakeFolder, n: number) {
  const taken = takenPaths(s);
  const rules = folderRules(f.include, f.exclude);
  let matching = 0;
  for (let tries = 0; matching < n && tries < n * 50; tries++) {
    const file = randomFile(s);
    const location = `${f.path}/${s.pick(SUBFOLDERS)}${file.name}`;
    if (taken.has(location)) continue;
    taken.add(location);
    f.disk.set(location, { ...file, location });
    if (rules(relative(f, location))) matching += 1;
  }
}

function emptyReport(folder: number): ScanReport {
  return {
    folder,
    added: 0,
    changed: 0,
    removed: 0,
    renamed: 0,
    unchanged: 0,
    busy: 0,
    missing: 0,
    skipped: {},
    reads: 0,
    unavailable: false,
  };
}

const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
/** kinds in key order, as Rust's BTreeMap serialises them */
const sorted = (m: Record<string, number>) =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** `add_folder`: checks the path like the engine, watches it and scans it once. */
export function watchFolder(
  s: FakeState,
  rawPath: string,
  include: string[],
  exclude: string[],
): { report: ScanReport; added: Item[] } {
  const path = rawPath.trim().replace(/(.)\/+$/, "$1");
  if (!path.startsWith("/")) throw err("invalid", `cannot watch ${path}: no such file or folder`);
  const data = FAKE_DATABASE.replace(/\/[^/]*$/, "");
  if (path === data || path.startsWith(`${data}/`)) {
    throw err("invalid", `${path} is inside Trove's own library folder (${data}); choose a folder outside it`);
  }
  for (const f of s.folders.values()) {
    if (f.path === path) throw err("conflict", `${path} is already watched (folder ${f.id})`);
  }
  folderRules(include, exclude);
  const pick = FOLDER_PICKS.find((p) => p.path === path);
  s.folderSeq += 1;
  const f: FakeFolder = {
    id: s.folderSeq,
    path,
    include: [...include],
    exclude: [...exclude],
    watching: true,
    state: "ok",
    message: null,
    gone: false,
    items: [],
    disk: new Map(),
    skipped: sorted(pick?.skipped ?? { images: 4 }),
    lastScanAt: null,
    lastScanMs: null,
    pending: { ...NO_CHANGES, added: pick?.files ?? 3 },
  };
  s.folders.set(f.id, f);
  return scan(s, f);
}

/** One scan: applies what was staged, as the engine's scan finds it on disk. */
function scan(s: FakeState, f: FakeFolder): { report: ScanReport; added: Item[] } {
  const report = emptyReport(f.id);
  if (f.gone) {
    f.state = "unavailable";
    f.message = unavailableMessage(f.path);
    report.unavailable = true;
    return { report, added: [] };
  }
  const started = Date.now();
  const ch = f.pending;
  f.pending = { ...NO_CHANGES };
  const rules = folderRules(f.include, f.exclude);
  const ids = [...live(s, f)];
  // items kept as missing stay so (their file is not back)
  const onDisk = ids.filter((id) => s.items.get(id)!.missingSince === null);
  report.missing = ids.length - onDisk.length;
  // files deleted from disk (the newest first): their items go, or stay marked missing
  const deleted = onDisk.splice(Math.max(0, onDisk.length - ch.removed), ch.removed);
  const keepMissing = switchOn(s, "keep-missing");
  for (const id of deleted) {
    f.disk.delete(s.items.get(id)!.location);
    if (keepMissing) {
      update(s, id, { missingSince: iso(started) });
      report.missing += 1;
    } else {
      removeItem(s, id);
      report.removed += 1;
    }
  }
  // files still there that the rules now leave out: their items go
  const kept = onDisk.filter((id) => {
    if (rules(relative(f, s.items.get(id)!.location))) return true;
    removeItem(s, id);
    report.removed += 1;
    return false;
  });
  // changed files are queued again (the same item); one being processed waits for a later scan
  let i = 0;
  for (; i < kept.length && report.changed + report.busy < ch.changed; i++) {
    const id = kept[i]!;
    if (s.processing.has(id)) {
      report.busy += 1;
      continue;
    }
    update(s, id, { status: "pending", progress: 0, stage: null, error: null, jobId: null });
    enqueue(s, id);
    report.changed += 1;
  }
  // moved files: the same item at its new path, not read again
  for (let r = 0; r < ch.renamed && i < kept.length; r++, i++) {
    const it = s.items.get(kept[i]!)!;
    const file = f.disk.get(it.location);
    const location = `${f.path}/moved/${it.name}`;
    f.disk.delete(it.location);
    if (file) f.disk.set(location, { ...file, location });
    update(s, it.id, { location });
    report.renamed += 1;
  }
  report.unchanged = kept.length - report.changed - report.busy - report.renamed;
  // new files, and those the rules let in now
  createFiles(s, f, ch.added);
  const known = new Set(ids.filter((id) => s.items.has(id)).map((id) => s.items.get(id)!.location));
  const fresh = [...f.disk.values()].filter((file) => !known.has(file.location) && rules(relative(f, file.location)));
  const added = addItems(s, fresh);
  f.items.push(...added.map((it) => it.id));
  report.added = added.length;
  // the files Trove does not read are looked at again on every scan (they are never added)
  report.skipped = { ...f.skipped };
  report.reads = added.length + report.renamed + total(f.skipped);
  f.lastScanAt = Date.now();
  f.lastScanMs = Math.max(1, f.lastScanAt - started) + 20 + ids.length * 2;
  // record_scan: an unavailable folder that is back is ok again
  if (f.state === "unavailable") f.state = "ok";
  if (f.state === "ok") f.message = null;
  return { report, added };
}

/** A folder's files added once, not watched (the folder-sync setting off), as `add_paths`. */
function addOnce(s: FakeState, path: string, n: number): AddReport {
  const taken = takenPaths(s);
  const specs: ItemSpec[] = [];
  for (let tries = 0; specs.length < n && tries < n * 50; tries++) {
    const file = randomFile(s);
    const location = `${path}/${s.pick(SUBFOLDERS)}${file.name}`;
    if (taken.has(location)) continue;
    taken.add(location);
    specs.push({ ...file, location });
  }
  return { added: addItems(s, specs), skipped: [] };
}

export function folderCommands(s: FakeState) {
  return {
    async addFolderDialog(): Promise<AddReport> {
      s.dialogs.push("folder");
      const watched = new Set([...s.folders.values()].map((f) => f.path));
      const pick = FOLDER_PICKS.find((p) => !watched.has(p.path));
      const path = pick?.path ?? `/home/ada/Folder ${s.folderSeq + 1}`;
      // the folder-sync setting off: its files are added once (add_paths), it is not watched
      if (!switchOn(s, "folder-sync")) return delay(addOnce(s, path, pick?.files ?? 3), 200);
      // as Rust's add_dropped: the folder's new items, and what it left out by kind
      const report: AddReport = { added: [], skipped: [] };
      try {
        const { report: scanned, added } = watchFolder(s, path, [], []);
        report.added = added;
        // BTreeMap order (by kind), one entry for the folder
        const kinds = Object.entries(scanned.skipped)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([kind, n]) => `${n} ${kind}`);
        if (kinds.length > 0) {
          const skip: Skipped = {
            input: path,
            reason: `watched; left out ${kinds.join(", ")} (files Trove does not read)`,
          };
          report.skipped.push(skip);
        }
      } catch (e) {
        report.skipped.push({ input: path, reason: (e as { message: string }).message });
      }
      return delay(report, 200);
    },

    async listFolders(): Promise<Folder[]> {
      return delay(
        [...s.folders.values()].sort((a, b) => a.id - b.id).map((f) => folderView(s, f)),
        20,
      );
    },

    async addFolder(path: string, include: string[], exclude: string[]): Promise<ScanReport> {
      return delay(watchFolder(s, path, include, exclude).report, 120);
    },

    async removeFolder(id: number, keepItems: boolean): Promise<void> {
      const f = folderOf(s, id);
      if (!keepItems) for (const item of live(s, f)) removeItem(s, item);
      s.folders.delete(id);
      return delay(undefined, 40);
    },

    async rescanFolder(id: number): Promise<ScanReport> {
      return delay(scan(s, folderOf(s, id)).report, 80);
    },

    async setFolderRules(id: number, include: string[], exclude: string[]): Promise<Folder> {
      const f = folderOf(s, id);
      // checked before anything changes, as the engine does
      folderRules(include, exclude);
      f.include = [...include];
      f.exclude = [...exclude];
      scan(s, f);
      return delay(folderView(s, f), 80);
    },

    async setFolderWatching(id: number, watching: boolean): Promise<Folder> {
      const f = folderOf(s, id);
      f.watching = watching;
      return delay(folderView(s, f), 20);
    },
  };
}

/** hooks: the folder is (not) there, or its watch fell back to polling */
export function setFolderState(s: FakeState, id: number, state: FakeFolder["state"], message?: string | null) {
  const f = folderOf(s, id);
  f.gone = state === "unavailable";
  f.state = state;
  f.message =
    message !== undefined
      ? message
      : state === "unavailable"
        ? unavailableMessage(f.path)
        : state === "polling"
          ? POLLING_MESSAGE
          : null;
}

/** hooks: an item's file is deleted and the item kept (`since`, RFC 3339; null: it is back) */
export function setMissing(s: FakeState, id: string, since: string | null = iso(Date.now())) {
  if (!s.items.has(id)) throw err("not_found", `no item ${id}`);
  update(s, id, { missingSince: since });
}

/** hooks: stage what the next scan of the folder finds changed on disk */
export function changeFolder(s: FakeState, id: number, changes: Partial<FolderChanges>) {
  const f = folderOf(s, id);
  for (const k of ["added", "changed", "removed", "renamed"] as const) f.pending[k] += Math.max(0, changes[k] ?? 0);
}

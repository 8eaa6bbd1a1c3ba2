// Library commands: list, add (files dialog, URLs), retry, delete, refresh links. The
// folder dialog watches what it picks: folders.ts.
import type { AddReport, Item, Status } from "../types";
import { randomFile } from "./content";
import { delay, err } from "./data";
import { type FakeState, type ItemSpec, removeItem, update } from "./state";
import { addItems, enqueue } from "./worker";

export function libraryCommands(s: FakeState) {
  const requeue = (id: string) => {
    update(s, id, { status: "pending", progress: 0, stage: null, error: null, jobId: null });
    enqueue(s, id);
  };

  return {
    async listItems(status: Status | null): Promise<Item[]> {
      const out: Item[] = [];
      for (let i = s.order.length - 1; i >= 0; i--) {
        const it = s.items.get(s.order[i]!);
        if (it && (status === null || it.status === status)) out.push(it);
      }
      return delay(out, 20);
    },

    async addFilesDialog(): Promise<AddReport> {
      s.dialogs.push("files");
      const n = 1 + Math.floor(s.rand() * 4);
      const specs = Array.from({ length: n }, () => randomFile(s));
      return delay({ added: addItems(s, specs), skipped: [] }, 150);
    },

    async addUrls(urls: string[]): Promise<AddReport> {
      const skipped: AddReport["skipped"] = [];
      const specs: ItemSpec[] = [];
      const seen = new Set<string>();
      const existing = new Set<string>();
      for (const it of s.items.values()) if (it.kind === "url") existing.add(it.location);
      for (const raw of urls) {
        const input = raw.trim();
        if (!input) continue;
        let u: URL;
        try {
          u = new URL(input);
        } catch {
          skipped.push({ input, reason: "This is not a valid URL." });
          continue;
        }
        if (u.protocol !== "http:" && u.protocol !== "https:") {
          skipped.push({ input, reason: "Only http and https addresses can be added." });
          continue;
        }
        const href = u.href;
        if (seen.has(href)) {
          skipped.push({ input, reason: "Listed twice; added once." });
          continue;
        }
        if (existing.has(href)) {
          skipped.push({ input, reason: "Already in your library." });
          continue;
        }
        seen.add(href);
        specs.push({ kind: "url", name: href, location: href, mime: null, size: null });
      }
      return delay({ added: addItems(s, specs), skipped }, 60);
    },

    async retryItem(id: string): Promise<Item> {
      const it = s.items.get(id);
      if (!it) throw err("not_found", "This item no longer exists.");
      if (it.status !== "failed") throw err("conflict", "Only failed items can be retried.");
      const next = update(s, id, { status: "pending", progress: 0, stage: null, error: null, jobId: null });
      enqueue(s, id);
      return delay(next);
    },

    async retryAllFailed(): Promise<number> {
      let n = 0;
      for (const it of s.items.values()) {
        if (it.status === "failed") {
          requeue(it.id);
          n += 1;
        }
      }
      return delay(n);
    },

    async deleteItem(id: string): Promise<void> {
      if (!s.items.has(id)) throw err("not_found", "This item no longer exists.");
      removeItem(s, id);
      return delay(undefined);
    },

    async refreshLinks(): Promise<number> {
      let n = 0;
      for (const it of s.items.values()) {
        if (it.kind === "url" && (it.status === "completed" || it.status === "failed")) {
          requeue(it.id);
          n += 1;
        }
      }
      return delay(n);
    },
  };
}

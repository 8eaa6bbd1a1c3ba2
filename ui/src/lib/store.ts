// Item store: O(1) lookups/updates by id, newest-first order, incremental
// counts, a cached filtered view. Pure (no DOM) and unit-tested.
import type { Counts, EngineEvent, Item, QueueState, Status } from "../backend/types";

export interface ApplyResult {
  /** ids whose row content changed */
  changed: Set<string>;
  /** membership or order of the visible list changed */
  structural: boolean;
  queue: QueueState | null;
  finished: { completed: number; failed: number }[];
}

/** RFC3339 → ms; tolerates "Z" vs "+00:00" and fractional seconds. */
function ms(t: string): number {
  const v = Date.parse(t);
  return Number.isNaN(v) ? 0 : v;
}

function newer(a: Item, b: Item): boolean {
  return ms(a.addedAt) > ms(b.addedAt);
}

export class ItemStore {
  private byId = new Map<string, Item>();
  /** newest first; may contain ids removed since (compacted lazily) */
  private order: string[] = [];
  private orderDirty = 0;
  private counts: Counts = { pending: 0, processing: 0, completed: 0, failed: 0, total: 0 };
  private filter: Status | null = null;
  /** lower-cased name filter ("" = none) */
  private query = "";
  private hidden = new Set<string>();
  private viewCache: string[] | null = null;
  /** increments whenever the visible list's membership/order changes */
  viewVersion = 0;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Item | undefined {
    return this.byId.get(id);
  }

  getCounts(): Counts {
    return { ...this.counts };
  }

  /** Counts as the user sees them (items hidden for undo are excluded). */
  visibleCounts(): Counts {
    const c = { ...this.counts };
    for (const id of this.hidden) {
      const it = this.byId.get(id);
      if (it) {
        c[it.status] -= 1;
        c.total -= 1;
      }
    }
    return c;
  }

  getFilter(): Status | null {
    return this.filter;
  }

  setFilter(f: Status | null): void {
    if (f === this.filter) return;
    this.filter = f;
    this.invalidate();
  }

  getQuery(): string {
    return this.query;
  }

  /** Narrow the view to items whose name or location contains `q` (case-insensitive). */
  setQuery(q: string): void {
    const n = q.trim().toLowerCase();
    if (n === this.query) return;
    this.query = n;
    this.invalidate();
  }

  private matchesQuery(it: Item): boolean {
    return (
      this.query === "" || it.name.toLowerCase().includes(this.query) || it.location.toLowerCase().includes(this.query)
    );
  }

  /** Replace everything with a newest-first list (from listItems(null)). */
  load(items: Item[]): void {
    this.byId.clear();
    this.order = [];
    this.counts = { pending: 0, processing: 0, completed: 0, failed: 0, total: 0 };
    for (const it of items) {
      if (this.byId.has(it.id)) continue;
      this.byId.set(it.id, it);
      this.order.push(it.id);
      this.counts[it.status] += 1;
      this.counts.total += 1;
    }
    this.invalidate();
  }

  /** Hide an item from the view (pending delete with undo). */
  hide(id: string): void {
    if (!this.hidden.has(id)) {
      this.hidden.add(id);
      this.invalidate();
    }
  }

  unhide(id: string): void {
    if (this.hidden.delete(id)) this.invalidate();
  }

  isHidden(id: string): boolean {
    return this.hidden.has(id);
  }

  /** Visible ids, newest first, honouring the filter and hidden items. */
  view(): readonly string[] {
    if (this.viewCache) return this.viewCache;
    this.compact();
    const f = this.filter;
    const out: string[] = [];
    for (const id of this.order) {
      if (this.hidden.has(id)) continue;
      const it = this.byId.get(id);
      if (it && (f === null || it.status === f) && this.matchesQuery(it)) out.push(id);
    }
    this.viewCache = out;
    return out;
  }

  apply(events: readonly EngineEvent[]): ApplyResult {
    const res: ApplyResult = { changed: new Set(), structural: false, queue: null, finished: [] };
    let added: Item[] | null = null;
    for (const ev of events) {
      switch (ev.type) {
        case "itemAdded":
        case "itemUpdated": {
          const it = ev.item;
          const old = this.byId.get(it.id);
          if (old) {
            // ignore stale rows (an older update arriving late)
            if (it.updatedAt !== old.updatedAt && ms(it.updatedAt) < ms(old.updatedAt)) break;
            this.byId.set(it.id, it);
            if (old.status !== it.status) {
              this.counts[old.status] -= 1;
              this.counts[it.status] += 1;
              if (this.filter !== null) res.structural = true;
            }
            // a page title arriving can change membership under a name filter
            if (this.query !== "" && (old.name !== it.name || old.location !== it.location)) res.structural = true;
            res.changed.add(it.id);
          } else {
            this.byId.set(it.id, it);
            this.counts[it.status] += 1;
            this.counts.total += 1;
            if (!added) added = [];
            added.push(it);
            res.changed.add(it.id);
            res.structural = true;
          }
          break;
        }
        case "itemDeleted": {
          const old = this.byId.get(ev.id);
          if (!old) break;
          this.byId.delete(ev.id);
          this.hidden.delete(ev.id);
          this.counts[old.status] -= 1;
          this.counts.total -= 1;
          this.orderDirty += 1;
          res.changed.add(ev.id);
          res.structural = true;
          break;
        }
        case "queue":
          res.queue = ev.queue;
          break;
        case "batchFinished":
          res.finished.push({ completed: ev.completed, failed: ev.failed });
          break;
      }
    }
    if (added) {
      const seen = new Set<string>();
      const fresh: Item[] = [];
      for (const it of added) {
        if (this.byId.has(it.id) && !seen.has(it.id)) {
          seen.add(it.id);
          fresh.push(it);
        }
      }
      this.insert(fresh);
    }
    if (res.structural) this.invalidate();
    return res;
  }

  private insert(added: Item[]): void {
    if (added.length === 0) return;
    // newest first; later arrivals first among equal timestamps
    const fresh = added.map((it, i) => ({ it, i }));
    fresh.sort((a, b) => ms(b.it.addedAt) - ms(a.it.addedAt) || b.i - a.i);
    const ids = fresh.map((x) => x.it.id);
    const head = this.firstLive();
    const oldest = fresh[fresh.length - 1]!.it;
    if (!head || !newer(head, oldest)) {
      // common case: everything new is at least as new as what we have
      this.order = ids.concat(this.order);
      return;
    }
    // rare: out-of-order arrival; merge
    this.compact();
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < ids.length || j < this.order.length) {
      if (j >= this.order.length) merged.push(ids[i++]!);
      else if (i >= ids.length) merged.push(this.order[j++]!);
      else {
        const a = this.byId.get(ids[i]!)!;
        const b = this.byId.get(this.order[j]!)!;
        if (!newer(b, a)) merged.push(ids[i++]!);
        else merged.push(this.order[j++]!);
      }
    }
    this.order = merged;
  }

  private firstLive(): Item | undefined {
    for (const id of this.order) {
      const it = this.byId.get(id);
      if (it) return it;
    }
    return undefined;
  }

  private compact(): void {
    if (this.orderDirty === 0) return;
    this.order = this.order.filter((id) => this.byId.has(id));
    this.orderDirty = 0;
  }

  private invalidate(): void {
    this.viewCache = null;
    this.viewVersion += 1;
  }
}

// URL query → simulation options (see TESTING.md):
//   ?fake=states        a handful of items in all four states (+ XSS probes)
//   ?fake=seed-10000    10,000 seeded items (any number works)
//   ?fake=empty         nothing (default)
//   &speed=0            frozen: nothing moves until __troveFake.step()
//   &speed=4            4× faster worker (default 1; fractions slow it down)
//   &fail=0.1           share of new items whose first attempt fails (default 0.08)
//   &paused=1           start with the queue paused
//   &concurrency=5      initial parallel jobs (within LIMITS, as the engine)
//   &model=unindexed    embedding model: none (default), unindexed, indexed
import { LIMITS } from "../types";

export interface FakeOptions {
  /** "states", "empty", or a number of items to seed */
  seed: "states" | "empty" | number;
  /** worker speed multiplier; 0 freezes the simulation (manual step()) */
  speed: number;
  /** probability that a new item's first attempt fails */
  failRate: number;
  paused: boolean;
  concurrency: number;
  /** PRNG seed, for reproducible runs */
  randomSeed: number;
  /** embedding model: none installed, installed but nothing embedded yet, or in use */
  model: "none" | "unindexed" | "indexed";
}

export const DEFAULT_FAKE_OPTIONS: FakeOptions = {
  seed: "empty",
  speed: 1,
  failRate: 0.08,
  paused: false,
  concurrency: 3,
  randomSeed: 42,
  model: "none",
};

/** What the engine accepts for `set_concurrency` (from the generated LIMITS). */
export function validConcurrency(n: number): boolean {
  return Number.isInteger(n) && n >= LIMITS.concurrencyMin && n <= LIMITS.concurrencyMax;
}

export function fakeOptionsFromQuery(search: string): FakeOptions {
  const q = new URLSearchParams(search);
  const o: FakeOptions = { ...DEFAULT_FAKE_OPTIONS };
  const fake = q.get("fake") ?? "";
  const m = /^seed-(\d+)$/.exec(fake);
  if (m) o.seed = Math.min(Number(m[1]), 200_000);
  else if (fake === "states") o.seed = "states";
  const speed = q.get("speed");
  if (speed !== null && speed !== "" && Number.isFinite(Number(speed))) o.speed = Math.max(0, Number(speed));
  const fail = q.get("fail");
  if (fail !== null && fail !== "" && Number.isFinite(Number(fail)))
    o.failRate = Math.min(1, Math.max(0, Number(fail)));
  if (q.get("paused") === "1") o.paused = true;
  const conc = Number(q.get("concurrency"));
  if (validConcurrency(conc)) o.concurrency = conc;
  const model = q.get("model");
  if (model === "none" || model === "unindexed" || model === "indexed") o.model = model;
  return o;
}

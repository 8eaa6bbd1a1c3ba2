// Initial libraries: `?fake=states` (every state, a duplicate, XSS probes) and
// `?fake=seed-N` (N items over 30 days).
import type { Status } from "../types";
import { randomFile, randomUrl } from "./content";
import { ERRORS, XSS_NAME } from "./data";
import { type FakeState, type ItemSeed, newItem } from "./state";

export function seedStates(s: FakeState) {
  const now = Date.now();
  const mk = (p: ItemSeed, minutesAgo: number) => newItem(s, p, now - minutesAgo * 60_000);
  mk(
    {
      kind: "file",
      name: "Annual report 2025.pdf",
      location: "/home/ada/Documents/Annual report 2025.pdf",
      mime: "application/pdf",
      size: 2_480_133,
      status: "completed",
      progress: 100,
      chunkCount: 184,
      attempts: 1,
    },
    180,
  );
  const orig = mk(
    {
      kind: "url",
      name: "Local-first software",
      location: "https://www.inkandswitch.com/local-first/",
      mime: "text/html",
      status: "completed",
      progress: 100,
      chunkCount: 61,
      attempts: 1,
    },
    150,
  );
  mk(
    {
      kind: "url",
      name: "Local-first software (copy)",
      location: "https://www.inkandswitch.com/local-first/?ref=hn",
      mime: "text/html",
      status: "completed",
      progress: 100,
      chunkCount: 61,
      attempts: 1,
      duplicateOf: orig.id,
    },
    120,
  );
  mk(
    {
      kind: "file",
      name: XSS_NAME,
      location: `/home/ada/Downloads/${XSS_NAME}`,
      mime: "text/html",
      size: 1337,
      status: "completed",
      progress: 100,
      chunkCount: 2,
      attempts: 1,
    },
    90,
  );
  mk(
    {
      kind: "file",
      name: "Scanned contract.pdf",
      location: "/home/ada/Documents/Scanned contract.pdf",
      mime: "application/pdf",
      size: 8_120_550,
      status: "failed",
      error: ERRORS[0]!,
      attempts: 3,
    },
    60,
  );
  mk(
    {
      kind: "url",
      name: "https://example.com/missing-page",
      location: "https://example.com/missing-page",
      mime: null,
      status: "failed",
      error: ERRORS[1]!,
      attempts: 1,
    },
    45,
  );
  const st = mk(
    {
      kind: "file",
      name: "Old notes.txt",
      location: "/home/ada/Notes/Old notes.txt",
      mime: "text/plain",
      size: 12_044,
    },
    25,
  );
  const proc = mk(
    {
      kind: "file",
      name: "Lecture slides 07.pdf",
      location: "/home/ada/Uni/Lecture slides 07.pdf",
      mime: "application/pdf",
      size: 5_300_000,
      status: "processing",
      progress: 42,
      stage: "chunking",
      attempts: 1,
      jobId: "j-7",
    },
    2,
  );
  const pend = mk(
    {
      kind: "url",
      name: "https://blog.rust-lang.org/2026/01/01/Rust-2026.html",
      location: "https://blog.rust-lang.org/2026/01/01/Rust-2026.html",
      mime: null,
    },
    1,
  );
  for (const [id, m] of s.meta) {
    const it = s.items.get(id)!;
    if (it.status === "completed") s.durations.set(m.seq + 2, (s.durations.get(m.seq + 2) ?? 0) + 1);
  }
  s.processing.add(proc.id);
  s.meta.get(proc.id)!.startedAt = now - 30_000;
  s.pendingQueue.push(st.id, pend.id);
  s.batch.active = true;
  s.queue.running = s.processing.size;
}

export function seedMany(s: FakeState, n: number) {
  const now = Date.now();
  const span = 30 * 24 * 3600_000;
  for (let i = 0; i < n; i++) {
    const addedMs = now - span + Math.floor((span * i) / n) - 60_000;
    const base = s.rand() < 0.75 ? randomFile(s) : randomUrl(s);
    const r = s.rand();
    const fromEnd = n - i;
    let status: Status = "completed";
    if (fromEnd <= 40) status = "pending";
    else if (r < 0.03) status = "failed";
    const p: ItemSeed = { ...base, status };
    if (status === "completed") {
      p.progress = 100;
      p.attempts = 1;
      p.chunkCount = 1 + Math.floor(s.rand() * 300);
      const sec = Math.max(1, Math.round(Math.exp(s.rand() * 2.2 + s.rand() * 1.2)));
      s.durations.set(sec, (s.durations.get(sec) ?? 0) + 1);
    } else if (status === "failed") {
      p.error =
        base.kind === "url" ? ERRORS[1 + Math.floor(s.rand() * 2)]! : s.pick([ERRORS[0]!, ERRORS[3]!, ERRORS[4]!]);
      p.attempts = 1 + Math.floor(s.rand() * 3);
    }
    const it = newItem(s, p, addedMs);
    if (status === "pending") s.pendingQueue.push(it.id);
    const key = `${it.kind}:${it.name}`;
    if (status === "completed" && !s.completedByName.has(key)) s.completedByName.set(key, it.id);
  }
  if (n > 0) s.batch.active = s.pendingQueue.length > 0;
}

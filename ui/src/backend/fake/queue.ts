// Queue commands: overview, pause/resume, concurrency (within the generated LIMITS).
import type { DurationBucket, Overview, QueueState } from "../types";
import { LIMITS } from "../types";
import { delay, err } from "./data";
import { validConcurrency } from "./options";
import { emit, type FakeState } from "./state";
import { wake } from "./worker";

export function queueCommands(s: FakeState) {
  return {
    async overview(): Promise<Overview> {
      const counts = { pending: 0, processing: 0, completed: 0, failed: 0, total: 0 };
      const failed: Overview["failed"] = [];
      const stuck: Overview["stuck"] = [];
      const now = Date.now();
      for (let i = s.order.length - 1; i >= 0; i--) {
        const it = s.items.get(s.order[i]!);
        if (!it) continue;
        counts[it.status] += 1;
        counts.total += 1;
        if (it.status === "failed" && failed.length < 200) {
          failed.push({ id: it.id, name: it.name, error: it.error ?? "Unknown error.", addedAt: it.addedAt });
        }
        if (it.status === "pending") {
          const minutes = Math.floor((now - Date.parse(it.addedAt)) / 60_000);
          if (minutes >= 10) stuck.push({ id: it.id, name: it.name, addedAt: it.addedAt, minutesPending: minutes });
        }
      }
      stuck.sort((a, b) => b.minutesPending - a.minutesPending);
      const distribution: DurationBucket[] = [...s.durations.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([seconds, count]) => ({ seconds, count }));
      const queue = { ...s.queue, running: s.processing.size };
      return delay({ counts, failed, stuck: stuck.slice(0, 200), distribution, queue }, 25);
    },

    async setPaused(paused: boolean): Promise<QueueState> {
      s.queue.paused = paused;
      emit(s, { type: "queue", queue: { ...s.queue } });
      wake(s);
      return delay({ ...s.queue });
    },

    async setConcurrency(n: number): Promise<QueueState> {
      if (!validConcurrency(n)) {
        // the engine's wording (trove_core::Engine::set_concurrency)
        throw err(
          "invalid",
          `concurrency must be between ${LIMITS.concurrencyMin} and ${LIMITS.concurrencyMax} (got ${n})`,
        );
      }
      s.queue.concurrency = n;
      emit(s, { type: "queue", queue: { ...s.queue } });
      wake(s);
      return delay({ ...s.queue });
    },
  };
}

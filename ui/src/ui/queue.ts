// Live queue panel: counts, pause/resume, concurrency, duration chart,
// failed items and items stuck in pending.
import type { Overview, QueueState, Status } from "../backend/types";
import { errorMessage, LIMITS } from "../backend/types";
import { absoluteTime, minutesLabel, plural, STATUS_LABEL } from "../lib/format";
import { medianSeconds, renderDistribution, secondsLabel } from "./chart";
import type { Ctx } from "./context";
import { button, h, setText } from "./dom";

export interface QueuePanel {
  el: HTMLElement;
  /** The app-wide banner saying why processing is paused by a database problem. */
  banner: HTMLElement;
  setOverview(o: Overview): void;
  setQueue(q: QueueState): void;
  /** counts from the live store, between overview refreshes */
  setCounts(): void;
}

const LIST_LIMIT = 50;

export function createQueuePanel(ctx: Ctx): QueuePanel {
  const stateText = h("p", { class: "queue-state", data: { testid: "queue-state" } });
  const banner = h("div", {
    class: "db-problem",
    attrs: { role: "alert", hidden: true },
    data: { testid: "db-problem" },
  });
  const pauseBtn = button("Pause", { icon: "pause", testid: "queue-pause" });
  pauseBtn.setAttribute("aria-pressed", "false");
  const concInput = h("input", {
    class: "range",
    attrs: {
      type: "range",
      min: LIMITS.concurrencyMin,
      max: LIMITS.concurrencyMax,
      step: 1,
      value: 3,
      id: "concurrency",
      "aria-describedby": "concurrency-help",
    },
    data: { testid: "queue-concurrency" },
  });
  const concOut = h("output", { class: "conc-value", attrs: { for: "concurrency" }, text: "3" });
  const stats = new Map<Status, HTMLElement>();
  const statGrid = h("div", { class: "stat-grid" });
  for (const s of ["processing", "pending", "completed", "failed"] as Status[]) {
    const v = h("span", { class: "stat-value", data: { testid: `queue-count-${s}` } });
    const b = h(
      "button",
      {
        class: "stat",
        attrs: { type: "button", title: `Show ${STATUS_LABEL[s].replace("…", "").toLowerCase()} items` },
        data: { status: s },
      },
      v,
      h("span", { class: "stat-label", text: STATUS_LABEL[s].replace("…", "") }),
    );
    b.addEventListener("click", () => {
      ctx.actions.showView("library");
      ctx.actions.setFilter(s);
    });
    stats.set(s, v);
    statGrid.append(b);
  }
  const chartBox = h("div", { class: "chart-box" });
  const chartCaption = h("p", { class: "muted small" });
  const failedList = h("ul", { class: "mini-list", data: { testid: "queue-failed" } });
  const failedHead = h("h3", { text: "Failed" });
  const stuckList = h("ul", { class: "mini-list", data: { testid: "queue-stuck" } });
  const stuckHead = h("h3", { text: "Waiting over 10 minutes" });

  const el = h(
    "aside",
    {
      class: "queue-panel",
      attrs: { "aria-label": "Processing queue", id: "queue-panel" },
      data: { testid: "queue-panel" },
    },
    h("div", { class: "panel-head" }, h("h2", { text: "Queue" }), pauseBtn),
    stateText,
    statGrid,
    h(
      "div",
      { class: "field" },
      h("label", { attrs: { for: "concurrency" }, text: "Parallel jobs" }),
      h("div", { class: "range-row" }, concInput, concOut),
      h("p", {
        class: "muted small",
        attrs: { id: "concurrency-help" },
        text: `How many items are processed at the same time (${LIMITS.concurrencyMin}–${LIMITS.concurrencyMax}).`,
      }),
    ),
    h("h3", { text: "Processing time" }),
    chartBox,
    chartCaption,
    failedHead,
    failedList,
    stuckHead,
    stuckList,
  );

  let queue: QueueState | null = null;
  pauseBtn.addEventListener("click", async () => {
    if (!queue) return;
    pauseBtn.disabled = true;
    try {
      const q = await ctx.backend.setPaused(!queue.paused);
      setQueue(q);
      ctx.toast.show(q.paused ? "Queue paused. Running jobs finish; no new ones start." : "Queue resumed.");
    } catch (e) {
      ctx.toast.show(`Could not change the queue: ${errorMessage(e)}`, { kind: "error" });
    } finally {
      pauseBtn.disabled = false;
    }
  });
  concInput.addEventListener("input", () => setText(concOut, concInput.value));
  concInput.addEventListener("change", async () => {
    const n = Number(concInput.value);
    const reset = () => {
      if (queue) {
        concInput.value = String(queue.concurrency);
        setText(concOut, String(queue.concurrency));
      }
    };
    // the engine's limits (generated bindings): refuse anything else before asking it
    if (!Number.isInteger(n) || n < LIMITS.concurrencyMin || n > LIMITS.concurrencyMax) {
      ctx.toast.show(`Parallel jobs must be ${LIMITS.concurrencyMin}–${LIMITS.concurrencyMax}.`, { kind: "error" });
      reset();
      return;
    }
    try {
      setQueue(await ctx.backend.setConcurrency(n));
    } catch (e) {
      ctx.toast.show(`Could not set parallel jobs: ${errorMessage(e)}`, { kind: "error" });
      reset();
    }
  });

  function setQueue(q: QueueState) {
    queue = q;
    ctx.queue = q;
    pauseBtn.setAttribute("aria-pressed", String(q.paused));
    pauseBtn.replaceChildren(
      ...button(q.paused ? "Resume" : "Pause", { icon: q.paused ? "play" : "pause" }).childNodes,
    );
    el.classList.toggle("paused", q.paused);
    banner.hidden = !q.problem;
    setText(banner, q.problem ?? "");
    if (document.activeElement !== concInput) {
      concInput.value = String(q.concurrency);
      setText(concOut, String(q.concurrency));
    }
    setText(
      stateText,
      q.paused
        ? `Paused · ${q.running} still running`
        : q.running > 0
          ? `Running ${q.running} of ${q.concurrency} parallel jobs`
          : "Idle",
    );
  }

  function setCounts() {
    const c = ctx.store.visibleCounts();
    for (const [s, v] of stats) setText(v, c[s].toLocaleString("en-US"));
  }

  function setOverview(o: Overview) {
    setQueue(o.queue);
    setCounts();
    chartBox.replaceChildren(renderDistribution(o.distribution));
    const total = o.distribution.reduce((s, b) => s + b.count, 0);
    setText(
      chartCaption,
      total ? `${plural(total, "item")} · median ${secondsLabel(medianSeconds(o.distribution))}` : "",
    );
    setText(failedHead, `Failed (${o.counts.failed.toLocaleString("en-US")})`);
    failedList.replaceChildren(
      ...o.failed.slice(0, LIST_LIMIT).map((f) => {
        const retry = button("Retry", {
          icon: "retry",
          class: "btn btn-small",
          onClick: () => ctx.actions.retry(f.id),
        });
        retry.setAttribute("aria-label", `Retry ${f.name}`);
        const name = h("button", {
          class: "linkish mini-name",
          attrs: { type: "button", title: `Show ${f.name} in the library` },
          text: f.name,
        });
        name.addEventListener("click", () => ctx.actions.reveal(f.id));
        return h(
          "li",
          { data: { testid: `queue-failed-${f.id}` } },
          h("div", { class: "mini-main" }, name, h("span", { class: "mini-error", text: f.error })),
          retry,
        );
      }),
    );
    if (o.failed.length === 0) failedList.append(h("li", { class: "muted", text: "No failures." }));
    else if (o.counts.failed > LIST_LIMIT)
      failedList.append(
        h("li", { class: "muted", text: `…and ${(o.counts.failed - LIST_LIMIT).toLocaleString("en-US")} more` }),
      );
    setText(stuckHead, `Waiting over 10 minutes (${o.stuck.length.toLocaleString("en-US")})`);
    stuckList.replaceChildren(
      ...o.stuck.slice(0, LIST_LIMIT).map((s) => {
        const name = h("button", {
          class: "linkish mini-name",
          attrs: { type: "button", title: `Added ${absoluteTime(s.addedAt)}` },
          text: s.name,
        });
        name.addEventListener("click", () => ctx.actions.reveal(s.id));
        return h(
          "li",
          { data: { testid: `queue-stuck-${s.id}` } },
          h(
            "div",
            { class: "mini-main" },
            name,
            h("span", { class: "muted small", text: `pending for ${minutesLabel(s.minutesPending)}` }),
          ),
        );
      }),
    );
    if (o.stuck.length === 0) stuckList.append(h("li", { class: "muted", text: "Nothing is stuck." }));
  }

  return { el, banner, setOverview, setQueue, setCounts };
}

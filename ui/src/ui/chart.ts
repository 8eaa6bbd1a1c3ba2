// Processing-time distribution as a plain SVG histogram.
import type { DurationBucket } from "../backend/types";
import { svg } from "./dom";

export interface Bin {
  from: number;
  to: number;
  count: number;
}

/** Re-bin arbitrary (seconds → count) buckets into at most `maxBins` bars. */
export function binDurations(buckets: readonly DurationBucket[], maxBins = 24): Bin[] {
  const b = buckets
    .filter((x) => x.count > 0 && Number.isFinite(x.seconds))
    .slice()
    .sort((a, c) => a.seconds - c.seconds);
  if (b.length === 0) return [];
  const min = Math.floor(b[0]!.seconds);
  const max = Math.ceil(b[b.length - 1]!.seconds);
  const span = Math.max(1, max - min + 1);
  const width = Math.max(1, Math.ceil(span / maxBins));
  const n = Math.ceil(span / width);
  const bins: Bin[] = Array.from({ length: n }, (_, i) => ({
    from: min + i * width,
    to: min + (i + 1) * width - 1,
    count: 0,
  }));
  for (const x of b) {
    const i = Math.min(n - 1, Math.floor((x.seconds - min) / width));
    bins[i]!.count += x.count;
  }
  return bins;
}

export function secondsLabel(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return r ? `${m}m${r}s` : `${m}m`;
}

export function renderDistribution(buckets: readonly DurationBucket[]): SVGSVGElement {
  const bins = binDurations(buckets);
  const W = 280;
  const H = 110;
  const padB = 18;
  const padT = 6;
  const total = bins.reduce((s, x) => s + x.count, 0);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "data-testid": "queue-chart" });
  const title = svg("title");
  root.append(title);
  if (bins.length === 0) {
    title.textContent = "No completed items yet";
    const t = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" });
    t.textContent = "No completed items yet";
    root.append(t);
    return root;
  }
  const maxC = Math.max(...bins.map((x) => x.count));
  const bw = W / bins.length;
  const median = medianSeconds(buckets);
  title.textContent = `Processing time of ${total.toLocaleString("en-US")} completed items, from ${secondsLabel(bins[0]!.from)} to ${secondsLabel(bins[bins.length - 1]!.to)}; median ${secondsLabel(median)}.`;
  bins.forEach((bin, i) => {
    const bh = Math.max(bin.count > 0 ? 1.5 : 0, ((H - padB - padT) * bin.count) / maxC);
    const rect = svg("rect", {
      x: (i * bw + 1).toFixed(1),
      y: (H - padB - bh).toFixed(1),
      width: Math.max(1, bw - 2).toFixed(1),
      height: bh.toFixed(1),
      rx: 1.5,
      class: "chart-bar",
    });
    const tt = svg("title");
    tt.textContent = `${bin.from === bin.to ? secondsLabel(bin.from) : `${secondsLabel(bin.from)}–${secondsLabel(bin.to)}`}: ${bin.count.toLocaleString("en-US")}`;
    rect.append(tt);
    root.append(rect);
  });
  root.append(svg("line", { x1: 0, x2: W, y1: H - padB + 0.5, y2: H - padB + 0.5, class: "chart-axis" }));
  const lbl = (x: number, text: string, anchor: string) => {
    const t = svg("text", { x, y: H - 4, "text-anchor": anchor, class: "chart-label" });
    t.textContent = text;
    root.append(t);
  };
  lbl(1, secondsLabel(bins[0]!.from), "start");
  if (bins.length > 2) lbl(W / 2, secondsLabel(bins[Math.floor(bins.length / 2)]!.from), "middle");
  lbl(W - 1, secondsLabel(bins[bins.length - 1]!.to), "end");
  return root;
}

export function medianSeconds(buckets: readonly DurationBucket[]): number {
  const b = buckets
    .filter((x) => x.count > 0)
    .slice()
    .sort((a, c) => a.seconds - c.seconds);
  const total = b.reduce((s, x) => s + x.count, 0);
  if (total === 0) return 0;
  let acc = 0;
  for (const x of b) {
    acc += x.count;
    if (acc * 2 >= total) return x.seconds;
  }
  return b[b.length - 1]!.seconds;
}

// Static guard: no HTML-string sinks or eval anywhere in the shipped source,
// and @tauri-apps is imported by exactly one module.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(__dirname, "../../src");
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|js)$/.test(f) ? [p] : [];
  });
}

describe("source hygiene", () => {
  const all = files(SRC).map((p) => ({ p: relative(SRC, p), text: readFileSync(p, "utf8") }));
  it("uses no HTML sinks, eval or inline handlers", () => {
    const bad =
      /\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\(\s*["']on|setAttribute\(\s*["']style["']/;
    for (const f of all) expect(bad.test(f.text), f.p).toBe(false);
  });
  it("imports @tauri-apps only from backend/tauri.ts", () => {
    const importers = all.filter((f) => /from\s+["']@tauri-apps\//.test(f.text)).map((f) => f.p.replace(/\\/g, "/"));
    expect(importers).toEqual(["backend/tauri.ts"]);
  });
  it("index.html carries the CSP and no inline script", () => {
    const html = readFileSync(join(__dirname, "../../index.html"), "utf8");
    expect(html).toContain(
      `default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self' ipc: http://ipc.localhost`,
    );
    expect(/<script(?![^>]*\bsrc=)[^>]*>/.test(html)).toBe(false);
    expect(/\son[a-z]+=/.test(html)).toBe(false);
    expect(/\sstyle=/.test(html)).toBe(false);
  });
});

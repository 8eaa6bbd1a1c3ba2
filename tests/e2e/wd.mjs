// A minimal W3C WebDriver client over fetch (Node 20): enough to drive the real app through
// tauri-driver without any npm dependency.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriver {
  constructor(base) {
    this.base = base.replace(/\/$/, "");
    this.session = null;
  }

  async req(method, path, body) {
    const url = `${this.base}${path}`;
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
    if (!res.ok || (json.value && json.value.error)) {
      const v = json.value || {};
      const err = new Error(`${method} ${path}: ${v.error || res.status}: ${v.message || text.slice(0, 300)}`);
      err.code = v.error;
      throw err;
    }
    return json.value;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async start(application, args = []) {
    const v = await this.req("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application, args } } },
    });
    this.session = v.sessionId;
    return v;
  }

  async quit() {
    if (!this.session) return;
    try {
      await this.req("DELETE", this.s(""));
    } finally {
      this.session = null;
    }
  }

  async execute(script, args = []) {
    return this.req("POST", this.s("/execute/sync"), { script, args });
  }

  /** `script` gets its arguments and a `done` callback as the last argument. */
  async executeAsync(script, args = []) {
    return this.req("POST", this.s("/execute/async"), { script, args });
  }

  async setTimeouts(t) {
    return this.req("POST", this.s("/timeouts"), t);
  }

  async find(css) {
    const v = await this.req("POST", this.s("/element"), { using: "css selector", value: css });
    return v[ELEMENT] ?? Object.values(v)[0];
  }

  async findAll(css) {
    const v = await this.req("POST", this.s("/elements"), { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT] ?? Object.values(e)[0]);
  }

  async click(el) {
    return this.req("POST", this.s(`/element/${el}/click`), {});
  }

  async type(el, text) {
    return this.req("POST", this.s(`/element/${el}/value`), { text });
  }

  async text(el) {
    return this.req("GET", this.s(`/element/${el}/text`));
  }

  async attr(el, name) {
    return this.req("GET", this.s(`/element/${el}/attribute/${name}`));
  }

  async displayed(el) {
    return this.req("GET", this.s(`/element/${el}/displayed`));
  }

  async screenshot(file) {
    const b64 = await this.req("GET", this.s("/screenshot"));
    writeFileSync(file, Buffer.from(b64, "base64"));
    return file;
  }

  async setWindowRect(rect) {
    return this.req("POST", this.s("/window/rect"), rect);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value (returned) or throw after `timeout` ms. */
export async function waitFor(what, fn, { timeout = 20000, every = 100 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await sleep(every);
  }
}

/** The pid of the app process started as `app … --db db` (our throw-away database). */
export function appPid(app, db) {
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (cmd[0] === app && cmd.includes(db)) return Number(p);
    } catch {}
  }
  return null;
}

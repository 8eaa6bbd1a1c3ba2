// Settings and "open" in the browser: the settings list and its defaults come from the
// generated bindings (SETTINGS, from trove_runtime::settings), so the screen tested here is
// the one the engine describes. Values are checked by the same rules as the Rust side for
// the kinds it has (numbers in range, on/off, language codes, a command).
import { SETTINGS } from "../../bindings";
import type { SettingsView, SettingView } from "../types";
import { delay, err } from "./data";
import { coverage } from "./search";
import type { FakeState } from "./state";

export const FAKE_DATABASE = "/home/you/.local/share/trove/trove.db";
export const FAKE_LOGS = "/home/you/.local/state/trove";

/** what the fake "opened": the commands it would have started */
export const opened: string[][] = [];

function check(s: SettingView, raw: string): string {
  const v = raw.trim();
  switch (s.kind) {
    case "int":
    case "number": {
      const n = Number(v);
      const whole = s.kind === "int";
      if (v === "" || !Number.isFinite(n) || (whole && !Number.isInteger(n)) || n < (s.min ?? 0) || n > (s.max ?? 0)) {
        throw err(
          "invalid",
          `${s.name} must be a ${whole ? "whole number" : "number"} from ${s.min} to ${s.max} (got "${v}")`,
        );
      }
      return String(n);
    }
    case "switch":
      if (["on", "1", "yes", "true"].includes(v.toLowerCase())) return "on";
      if (["off", "0", "no", "false"].includes(v.toLowerCase())) return "off";
      throw err("invalid", `${s.name} is on or off (got "${v}")`);
    case "languages":
      if (!/^[A-Za-z0-9_]{1,32}(\+[A-Za-z0-9_]{1,32})*$/.test(v)) {
        throw err("invalid", `${s.name} are Tesseract language codes joined by + (e.g. eng+deu), got "${v}"`);
      }
      return v;
    case "service": {
      if (v.toLowerCase() === "local") return "local";
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw err("invalid", `${s.name} is local or an embeddings API address: not a valid web address`);
      }
      const local = ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);
      if (u.protocol !== "https:" && !(u.protocol === "http:" && local)) {
        throw err(
          "invalid",
          `${s.name} is local or an embeddings API address: The embedding service must use https unless it runs on this computer`,
        );
      }
      return v;
    }
    case "text":
      if (!v || v.length > 200) throw err("invalid", `${s.name} is a name of up to 200 characters (got "${v}")`);
      return v;
    case "secret":
      if (!v || /\s/.test(v))
        throw err("invalid", `${s.name} must be one word of up to 4096 characters, without spaces`);
      return v;
    default:
      if (!v) throw err("invalid", `${s.name} is auto or a command`);
      return v;
  }
}

/** what the engine shows of a saved secret */
export const SECRET_SHOWN = "(saved)";

export function settingsCommands(s: FakeState) {
  const stored = new Map<string, string>();
  const view = (): SettingsView => ({
    database: FAKE_DATABASE,
    logs: FAKE_LOGS,
    settings: SETTINGS.map((d) => {
      let kept = stored.get(d.name);
      // a secret is never sent back, only whether there is one
      if (d.kind === "secret" && kept !== undefined) kept = SECRET_SHOWN;
      const value = d.name === "concurrency" ? String(s.queue.concurrency) : (kept ?? d.default);
      return { ...d, value, stored: kept ?? null, source: kept !== undefined ? "stored" : "default" };
    }),
    semantic: coverage(s),
  });
  return {
    async getSettings(): Promise<SettingsView> {
      return delay(view(), 20);
    },
    async setSetting(name: string, value: string | null): Promise<SettingsView> {
      const d = SETTINGS.find((x) => x.name === name);
      if (!d) throw err("invalid", `no setting called "${name}"`);
      if (d.kind === "command") {
        throw err("invalid", `${name} is a command: set it with \`trove config set ${name} …\` in a terminal`);
      }
      if (value === null) stored.delete(name);
      else stored.set(name, check(d, value));
      if (name === "concurrency") s.queue.concurrency = Number(stored.get(name) ?? d.default);
      if (name === "embedder" || name === "embed-model") {
        // another model: what is here has no vectors of it yet (as after a change in the app)
        const url = stored.get("embedder") ?? "local";
        const id =
          url === "local"
            ? "local:all-MiniLM-L6-v2"
            : `openai:${stored.get("embed-model") ?? "text-embedding-3-small"}@${new URL(url).host}`;
        if (id !== s.modelId) {
          s.modelId = id;
          if (s.model !== "none" || url !== "local") s.model = "unindexed";
        }
      }
      return delay(view(), 20);
    },
    async openItem(id: string, page: number | null, reveal: boolean): Promise<string[]> {
      const it = s.items.get(id);
      if (!it) throw err("not_found", "This item is no longer in your library.");
      const cmd =
        reveal && it.kind === "file"
          ? ["xdg-open", it.location.replace(/\/[^/]*$/, "") || "/"]
          : page != null && it.mime === "application/pdf"
            ? ["evince", "--page-index", String(page), it.location]
            : ["xdg-open", it.location];
      opened.push(cmd);
      return delay(cmd, 10);
    },
    async openDataFolder(): Promise<void> {
      opened.push(["xdg-open", FAKE_DATABASE.replace(/\/[^/]*$/, "")]);
      return delay(undefined, 10);
    },
    async openLogFolder(): Promise<void> {
      opened.push(["xdg-open", FAKE_LOGS]);
      return delay(undefined, 10);
    },
  };
}

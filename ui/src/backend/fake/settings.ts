// Settings and "open" in the browser: the settings list and its defaults come from the
// generated bindings (SETTINGS, from trove_runtime::settings), so the screen tested here is
// the one the engine describes. Values are checked by the same rules as the Rust side for
// the kinds it has (numbers in range, on/off, language codes, a command).
import { SETTINGS } from "../../bindings";
import type { SettingsView, SettingView } from "../types";
import { delay, err } from "./data";
import { coverage } from "./search";
import { type FakeState, LOCAL_MODEL_ID } from "./state";

export const FAKE_DATABASE = "/home/you/.local/share/trove/trove.db";
export const FAKE_LOGS = "/home/you/.local/state/trove";

/** what the fake "opened": the commands it would have started */
export const opened: string[][] = [];

// biome-ignore lint/suspicious/noControlCharactersInRegex: the engine refuses control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or localhost, as the engine's is_loopback */
function isLoopback(u: URL): boolean {
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "::1") return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  // URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}

/** `user@host:port` of an address → `host:port`, as the engine names an API model (`authority`) */
function authority(raw: string): string {
  const i = raw.indexOf("://");
  const rest = i >= 0 ? raw.slice(i + 3) : raw;
  const end = rest.search(/[/?#]/);
  const auth = end >= 0 ? rest.slice(0, end) : rest;
  const at = auth.lastIndexOf("@");
  return at >= 0 ? auth.slice(at + 1) : auth;
}

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
      // the engine's wording (trove_embed::check_base_url)
      const bad = (why: string) => err("invalid", `${s.name} is local or an embeddings API address: ${why}`);
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw bad("The embedding service address is not a valid web address.");
      }
      if (u.protocol === "http:" && !isLoopback(u)) {
        u.username = "";
        u.password = "";
        u.search = "";
        u.hash = "";
        throw bad(
          `The embedding service must use https unless it runs on this computer (http://localhost…), and ${u.href} does not.`,
        );
      }
      if (u.protocol !== "https:" && u.protocol !== "http:") {
        throw bad(
          "The embedding service address must start with https:// (or http://localhost… for a service on this computer).",
        );
      }
      if (!u.hostname) throw bad("The embedding service address is not a valid web address.");
      return v;
    }
    case "text":
      if (!v || v.length > 200 || CONTROL.test(v))
        throw err("invalid", `${s.name} is a name of up to 200 characters (got "${v}")`);
      return v;
    case "secret":
      if (!v || v.length > 4096 || / /.test(v) || CONTROL.test(v))
        throw err("invalid", `${s.name} must be one word of up to 4096 characters, without spaces`);
      return v;
    default:
      if (!v) throw err("invalid", `${s.name} is auto or a command`);
      return v;
  }
}

/** what the engine shows of a saved secret */
export const SECRET_SHOWN = "(saved)";

/** Every setting the fake knows: the generated list (the engine's own). */
export const ALL_SETTINGS: readonly SettingView[] = SETTINGS;

/** A switch setting's value in use ("on"/"off"). */
export function switchOn(s: FakeState, name: string): boolean {
  const d = ALL_SETTINGS.find((x) => x.name === name);
  return (s.settings.get(name) ?? d?.default) === "on";
}

export function settingsCommands(s: FakeState) {
  const stored = s.settings;
  const view = (): SettingsView => ({
    database: FAKE_DATABASE,
    logs: FAKE_LOGS,
    settings: ALL_SETTINGS.map((d) => {
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
      const d = ALL_SETTINGS.find((x) => x.name === name);
      if (!d) throw err("invalid", `no setting called "${name}"`);
      if (d.kind === "command") {
        throw err("invalid", `${name} is a command: set it with \`trove config set ${name} …\` in a terminal`);
      }
      if (value === null) stored.delete(name);
      else stored.set(name, check(d, value));
      if (name === "concurrency") s.queue.concurrency = Number(stored.get(name) ?? d.default);
      if (name.startsWith("embed")) {
        // as set_setting → apply_embedder: the embedder in use follows the settings; the
        // vectors are kept per model, so a model used before keeps what it had embedded
        const url = stored.get("embedder") ?? "local";
        const model = stored.get("embed-model") ?? SETTINGS.find((x) => x.name === "embed-model")!.default;
        s.modelId = url === "local" ? LOCAL_MODEL_ID : `openai:${model}@${authority(url)}`;
        if (url === "local" && !s.localModel) s.model = "none";
        else s.model = s.indexedModels.has(s.modelId) ? "indexed" : "unindexed";
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

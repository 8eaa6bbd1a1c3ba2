//! The user's settings: one list, read by the CLI (`trove config`), the app and the engine's
//! wiring. Values live in the database's `settings` table, so the window and the command line
//! share them; an environment variable, where one is named, overrides the stored value (and
//! `trove config` says so). Queue settings apply at once to every process on the database;
//! the others when Trove next starts (or next opens the database, for the CLI).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::Serialize;
use trove_core::store::settings as keys;
use trove_core::{CONCURRENCY_MAX, CONCURRENCY_MIN};

/// What a setting's value may be.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A whole number within the range.
    Int { min: u64, max: u64 },
    /// A number within the range.
    Number { min: f64, max: f64 },
    /// `on` or `off`.
    Switch,
    /// Tesseract language codes joined by `+` (`eng`, `eng+deu`).
    Languages,
    /// `auto`, or a program with its arguments (`okular -p {page} {file}`).
    Command,
    /// `local`, or the address of an OpenAI-compatible embeddings API (`https://`, or
    /// `http://` to this computer).
    Service,
    /// Empty (none), or the address of an OpenAI-compatible API (`https://`, or `http://`
    /// to this computer): the chat endpoint of Ask.
    Endpoint,
    /// A short line of text (a model's name).
    Text,
    /// A secret (the embeddings API's key): kept in a file only its owner can read
    /// ([`secret_file`]), never in the database, never shown or logged.
    Secret,
}

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// The name users type: `trove config set rate-limit 2`.
    pub name: &'static str,
    /// The key in the database's `settings` table.
    pub key: &'static str,
    /// The environment variable that overrides it, if any.
    pub env: Option<&'static str>,
    /// The value when nothing is stored (as `trove config get` prints it).
    pub default: &'static str,
    /// The stored number is the value times this (the link refresh interval is kept in
    /// milliseconds, shown in hours); 1 for the others.
    pub stored_scale: f64,
    pub kind: Kind,
    pub about: &'static str,
    /// Takes effect at once (queue settings, the PDF viewer); the others when Trove next
    /// starts.
    pub live: bool,
}

/// Every setting, in the order `trove config list` shows them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "concurrency",
        key: keys::CONCURRENCY,
        env: None,
        default: "2",
        stored_scale: 1.0,
        kind: Kind::Int {
            min: CONCURRENCY_MIN as u64,
            max: CONCURRENCY_MAX as u64,
        },
        about: "items processed at the same time",
        live: true,
    },
    Setting {
        name: "link-refresh-hours",
        key: keys::REFRESH_EVERY,
        env: None,
        default: "0",
        stored_scale: 3_600_000.0,
        // Up to ten years (`trove refresh --every 1y` stores 8,766 h).
        kind: Kind::Number {
            min: 0.0,
            max: 24.0 * 3653.0,
        },
        about: "fetch completed links again after this many hours (0: never)",
        live: true,
    },
    Setting {
        name: "rate-limit",
        key: "scrape.rate_limit",
        env: Some("TROVE_RATE_LIMIT"),
        default: "1",
        stored_scale: 1.0,
        kind: Kind::Number {
            min: 0.0,
            max: 1000.0,
        },
        about: "requests per second to one web site (0: no limit)",
        live: false,
    },
    Setting {
        name: "fetch-timeout",
        key: "scrape.fetch_timeout_secs",
        env: Some("TROVE_FETCH_TIMEOUT"),
        default: "30",
        stored_scale: 1.0,
        kind: Kind::Number {
            min: 0.1,
            max: 3600.0,
        },
        about: "seconds before fetching a page gives up",
        live: false,
    },
    Setting {
        name: "robots",
        key: "scrape.robots",
        env: None,
        default: "on",
        stored_scale: 1.0,
        kind: Kind::Switch,
        about: "follow web sites' robots.txt",
        live: false,
    },
    Setting {
        name: "ocr",
        key: "ocr.enabled",
        env: Some("TROVE_OCR"),
        default: "on",
        stored_scale: 1.0,
        kind: Kind::Switch,
        about: "read scanned pages and images with Tesseract, when it is installed",
        live: false,
    },
    Setting {
        name: "ocr-languages",
        key: "ocr.languages",
        env: Some("TROVE_OCR_LANG"),
        default: "eng",
        stored_scale: 1.0,
        kind: Kind::Languages,
        about: "Tesseract languages, e.g. eng+deu (each needs its tesseract-ocr-<lang> package)",
        live: false,
    },
    Setting {
        name: "ocr-budget",
        key: "ocr.budget_secs",
        env: Some("TROVE_OCR_BUDGET"),
        default: "1200",
        stored_scale: 1.0,
        kind: Kind::Int {
            min: 1,
            max: 7 * 24 * 3600,
        },
        about: "seconds OCR may spend on one document",
        live: false,
    },
    Setting {
        name: "pdf-viewer",
        key: "open.pdf_viewer",
        env: None,
        default: "auto",
        stored_scale: 1.0,
        kind: Kind::Command,
        about: "opens PDFs at a hit's page: auto (Evince, Okular, zathura, Atril, Xreader) or a command with {file} and {page}",
        live: true,
    },
    Setting {
        name: "folder-sync",
        key: keys::FOLDER_SYNC,
        env: None,
        default: "on",
        stored_scale: 1.0,
        kind: Kind::Switch,
        about: "keep folders dropped on the window or picked in sync (off: add their files once)",
        live: true,
    },
    Setting {
        name: "keep-missing",
        key: keys::KEEP_MISSING,
        env: None,
        default: "off",
        stored_scale: 1.0,
        kind: Kind::Switch,
        about: "keep the items of files deleted from a watched folder, marked missing (off: remove them)",
        live: true,
    },
    Setting {
        name: "embedder",
        key: "embed.url",
        env: Some("TROVE_EMBED_URL"),
        default: "local",
        stored_scale: 1.0,
        kind: Kind::Service,
        about: "local (the model that comes with Trove) or the address of an OpenAI-compatible embeddings API, e.g. http://127.0.0.1:11434/v1",
        live: true,
    },
    Setting {
        name: "embed-model",
        key: "embed.model",
        env: Some("TROVE_EMBED_MODEL"),
        default: "text-embedding-3-small",
        stored_scale: 1.0,
        kind: Kind::Text,
        about: "the model the embeddings API is asked for",
        live: true,
    },
    Setting {
        name: "embed-key",
        key: SECRET_KEY,
        env: Some("TROVE_EMBED_KEY"),
        default: "",
        stored_scale: 1.0,
        kind: Kind::Secret,
        about: "the embeddings API's key, if it needs one: kept in a file only you can read (~/.config/trove/embed-key), never in the library",
        live: true,
    },
    Setting {
        name: "embed-rpm",
        key: "embed.requests_per_minute",
        env: Some("TROVE_EMBED_RPM"),
        default: "0",
        stored_scale: 1.0,
        kind: Kind::Int {
            min: 0,
            max: 1_000_000,
        },
        about: "requests per minute to the embeddings API (0: no limit)",
        live: true,
    },
    Setting {
        name: "embed-tpm",
        key: "embed.tokens_per_minute",
        env: Some("TROVE_EMBED_TPM"),
        default: "0",
        stored_scale: 1.0,
        kind: Kind::Int {
            min: 0,
            max: 1_000_000_000,
        },
        about: "tokens per minute to the embeddings API (0: no limit)",
        live: true,
    },
    Setting {
        name: "chat-url",
        key: "chat.url",
        env: Some("TROVE_CHAT_URL"),
        default: "",
        stored_scale: 1.0,
        kind: Kind::Endpoint,
        about: "an OpenAI-compatible chat endpoint for Ask (Ollama: http://localhost:11434/v1, llama.cpp server, LM Studio, OpenAI); empty: Ask shows the best passages without writing an answer",
        live: true,
    },
    Setting {
        name: "chat-model",
        key: "chat.model",
        env: Some("TROVE_CHAT_MODEL"),
        default: "llama3.2",
        stored_scale: 1.0,
        kind: Kind::Text,
        about: "the model the chat endpoint is asked for",
        live: true,
    },
    Setting {
        name: "chat-key",
        key: CHAT_SECRET_KEY,
        env: Some("TROVE_CHAT_KEY"),
        default: "",
        stored_scale: 1.0,
        kind: Kind::Secret,
        about: "the chat endpoint's key, if it needs one: kept in a file only you can read (~/.config/trove/chat-key), never in the library",
        live: true,
    },
];

/// The `settings` key of the secret: not a row of the database; [`read_stored`] and
/// [`stored_in`] put the file's content under it, in memory only.
const SECRET_KEY: &str = "embed.key";
const CHAT_SECRET_KEY: &str = "chat.key";

/// Where a secret setting is kept: `$XDG_CONFIG_HOME/trove/<name>` (`embed-key`,
/// `chat-key`), mode 0600.
pub fn secret_file(name: &str) -> Option<PathBuf> {
    Some(
        directories::BaseDirs::new()?
            .config_dir()
            .join("trove")
            .join(name),
    )
}

fn read_secret(name: &str) -> Option<String> {
    let key = std::fs::read_to_string(secret_file(name)?).ok()?;
    let key = key.trim();
    (!key.is_empty()).then(|| key.to_owned())
}

/// Writes the key where only its owner can read it (a new file, then renamed over the old
/// one), or removes it.
fn write_secret(name: &str, value: Option<&str>) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = secret_file(name).ok_or_else(|| anyhow::anyhow!("no home directory for the key"))?;
    let Some(value) = value else {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                bail!("could not remove {}: {e}", path.display())
            }
            _ => return Ok(()),
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(value.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        bail!("could not save the key in {}: {e}", path.display());
    }
    Ok(())
}

/// The embeddings API's key in use: `TROVE_EMBED_KEY`, else the saved one.
pub fn secret(stored: &HashMap<String, String>) -> Option<String> {
    secret_of("embed-key", stored)
}

/// A secret setting's value in use: its environment variable, else the saved one.
pub fn secret_of(name: &str, stored: &HashMap<String, String>) -> Option<String> {
    let s = SETTINGS.iter().find(|s| s.name == name)?;
    s.env
        .and_then(|e| std::env::var(e).ok())
        .filter(|k| !k.trim().is_empty())
        .map(|k| k.trim().to_owned())
        .or_else(|| stored.get(s.key).cloned())
}

/// The saved secrets, under their settings keys (in memory only).
fn read_secrets(out: &mut HashMap<String, String>) {
    for s in SETTINGS.iter().filter(|s| matches!(s.kind, Kind::Secret)) {
        if let Some(key) = read_secret(s.name) {
            out.insert(s.key.to_owned(), key);
        }
    }
}

/// A setting by the name users type.
pub fn find(name: &str) -> Result<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        anyhow::anyhow!(
            "no setting called {name:?}; the settings are: {}",
            names.join(", ")
        )
    })
}

impl Setting {
    /// The value in its canonical form, or why it is not acceptable.
    pub fn check(&self, value: &str) -> Result<String> {
        let v = value.trim();
        Ok(match self.kind {
            Kind::Int { min, max } => match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => n.to_string(),
                _ => bail!(
                    "{} must be a whole number from {min} to {max} (got {v:?})",
                    self.name
                ),
            },
            Kind::Number { min, max } => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && (min..=max).contains(&n) => n.to_string(),
                _ => bail!(
                    "{} must be a number from {min} to {max} (got {v:?})",
                    self.name
                ),
            },
            Kind::Switch => match v.to_ascii_lowercase().as_str() {
                "on" | "1" | "yes" | "true" => "on".into(),
                "off" | "0" | "no" | "false" => "off".into(),
                _ => bail!("{} is on or off (got {v:?})", self.name),
            },
            Kind::Languages => {
                // `eng+deu` as Tesseract takes them; `eng,deu` and `eng deu` are accepted
                // too (OCR splits on them), and script models such as `script/Latin`.
                let codes: Vec<&str> = v.split(['+', ',', ' ']).filter(|l| !l.is_empty()).collect();
                let ok = !codes.is_empty()
                    && codes.iter().all(|l| {
                        l.len() <= 32
                            && !l.starts_with(['-', '/', '.'])
                            && !l.contains("..")
                            && l.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '-'))
                    });
                if !ok {
                    bail!(
                        "{} are Tesseract language codes joined by + (e.g. eng+deu), got {v:?}",
                        self.name
                    );
                }
                v.to_owned()
            }
            Kind::Service => {
                if v.eq_ignore_ascii_case("local") {
                    "local".to_owned()
                } else {
                    trove_embed::check_base_url(v).map_err(|e| {
                        anyhow::anyhow!("{} is local or an embeddings API address: {e}", self.name)
                    })?;
                    v.to_owned()
                }
            }
            Kind::Endpoint => {
                if v.is_empty() || v.eq_ignore_ascii_case("off") {
                    String::new()
                } else {
                    trove_embed::check_api_url(v, "chat endpoint").map_err(|e| {
                        anyhow::anyhow!(
                            "{} is empty or an OpenAI-compatible API address: {e}",
                            self.name
                        )
                    })?;
                    v.to_owned()
                }
            }
            Kind::Text => {
                if v.is_empty() || v.len() > 200 || v.chars().any(char::is_control) {
                    bail!(
                        "{} is a name of up to 200 characters (got {v:?})",
                        self.name
                    );
                }
                v.to_owned()
            }
            Kind::Secret => {
                if v.is_empty() || v.len() > 4096 || v.chars().any(|c| c.is_control() || c == ' ') {
                    bail!(
                        "{} must be one word of up to 4096 characters, without spaces",
                        self.name
                    );
                }
                v.to_owned()
            }
            Kind::Command => {
                if v.is_empty() || v.len() > 1000 || v.chars().any(char::is_control) {
                    bail!("{} is auto or a command such as \"okular -p {{page}} {{file}}\" (got {v:?})", self.name);
                }
                v.to_owned()
            }
        })
    }

    /// The environment's value, when its variable is set to an acceptable value.
    pub fn env_value(&self) -> Option<String> {
        let var = self.env?;
        std::env::var(var).ok().and_then(|v| self.check(&v).ok())
    }
}

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    Stored,
    Env,
}

/// A setting's value as Trove uses it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Effective {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
    /// The variable that overrides the stored value, when it is set.
    pub env: Option<&'static str>,
    /// What is stored in the database (also when a variable overrides it).
    pub stored: Option<String>,
    pub about: &'static str,
}

/// Every setting's effective value, given what the database stores.
pub fn effective(stored: &HashMap<String, String>) -> Vec<Effective> {
    SETTINGS.iter().map(|s| effective_one(s, stored)).collect()
}

impl Setting {
    /// What the database keeps for a checked value.
    pub fn to_stored(&self, value: &str) -> String {
        if self.stored_scale == 1.0 {
            return value.to_owned();
        }
        let n: f64 = value.parse().unwrap_or(0.0);
        format!("{}", (n * self.stored_scale).round() as u64)
    }

    /// A stored value as users see it (None when it is not acceptable any more).
    fn read_stored_value(&self, stored: &str) -> Option<String> {
        if self.stored_scale == 1.0 {
            return self.check(stored).ok();
        }
        let n: f64 = stored.trim().parse().ok()?;
        self.check(&(n / self.stored_scale).to_string()).ok()
    }
}

fn effective_one(s: &'static Setting, stored: &HashMap<String, String>) -> Effective {
    let mut kept = stored.get(s.key).and_then(|v| s.read_stored_value(v));
    let mut env = s.env_value();
    if matches!(s.kind, Kind::Secret) {
        // Whether there is one, never what it is.
        kept = kept.map(|_| SECRET_SHOWN.to_owned());
        env = env.map(|_| SECRET_SHOWN.to_owned());
    }
    let (value, source) = match (&env, &kept) {
        (Some(v), _) => (v.clone(), Source::Env),
        (None, Some(v)) => (v.clone(), Source::Stored),
        (None, None) => (s.default.to_owned(), Source::Default),
    };
    Effective {
        name: s.name,
        value,
        source,
        env: env.is_some().then_some(s.env).flatten(),
        stored: kept,
        about: s.about,
    }
}

/// What a secret's value reads as (`trove config get embed-key`, the Settings screen).
pub const SECRET_SHOWN: &str = "(saved)";

/// The stored settings of the database at `db`, read before the engine opens it (its
/// configuration depends on them). Empty when the file or the table does not exist yet.
pub fn read_stored(db: &Path) -> HashMap<String, String> {
    use rusqlite::OpenFlags;
    let mut out = HashMap::new();
    read_secrets(&mut out);
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return out;
    };
    let _ = conn.busy_timeout(std::time::Duration::from_secs(2));
    out.extend(
        SETTINGS
            .iter()
            .filter(|s| !matches!(s.kind, Kind::Secret))
            .filter_map(|s| Some((s.key.to_owned(), keys::get(&conn, s.key).ok()??))),
    );
    out
}

/// The stored settings, read through an open engine.
pub fn stored_in(engine: &trove_core::Engine) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    read_secrets(&mut out);
    for s in SETTINGS.iter().filter(|s| !matches!(s.kind, Kind::Secret)) {
        if let Some(v) = engine.setting(s.key)? {
            out.insert(s.key.to_owned(), v);
        }
    }
    Ok(out)
}

/// The value Trove uses for `name` (a name from [`SETTINGS`]).
pub fn value(stored: &HashMap<String, String>, name: &str) -> String {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .map(|s| effective_one(s, stored).value)
        .unwrap_or_default()
}

/// Store `value` for the setting (`None`: back to its default), through the engine so that
/// every process on the database sees the change (queue settings take effect at once).
pub fn store(engine: &trove_core::Engine, s: &Setting, value: Option<&str>) -> Result<()> {
    let value = value.map(|v| s.check(v)).transpose()?;
    match (s.name, value.as_deref()) {
        ("concurrency", Some(v)) => {
            engine.set_concurrency(v.parse()?)?;
        }
        ("link-refresh-hours", None) => engine.set_setting(s.key, None)?,
        ("link-refresh-hours", Some(v)) => {
            let hours: f64 = v.parse()?;
            let every = (hours > 0.0).then(|| std::time::Duration::from_secs_f64(hours * 3600.0));
            engine.set_refresh_every(every)?;
        }
        (_, v) if matches!(s.kind, Kind::Secret) => write_secret(s.name, v)?,
        (_, v) => engine.set_setting(s.key, v.map(|v| s.to_stored(v)).as_deref())?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_canonical() {
        assert_eq!(find("ocr").unwrap().check("Yes").unwrap(), "on");
        assert!(find("ocr").unwrap().check("maybe").is_err());
        assert_eq!(
            find("ocr-languages").unwrap().check("eng+deu").unwrap(),
            "eng+deu"
        );
        assert!(find("ocr-languages")
            .unwrap()
            .check("eng; rm -rf /")
            .is_err());
        assert!(find("concurrency").unwrap().check("17").is_err());
        assert!(find("ocr-languages").unwrap().check("eng,deu").is_ok());
        assert!(find("ocr-languages").unwrap().check("script/Latin").is_ok());
        assert!(find("ocr-languages").unwrap().check("../etc").is_err());
        assert!(find("link-refresh-hours").unwrap().check("8766").is_ok());
        assert_eq!(find("rate-limit").unwrap().check(" 0.5 ").unwrap(), "0.5");
        assert!(find("nonsense")
            .unwrap_err()
            .to_string()
            .contains("rate-limit"));
        let embedder = find("embedder").unwrap();
        assert_eq!(embedder.check(" LOCAL ").unwrap(), "local");
        assert!(embedder.check("https://api.example.com/v1").is_ok());
        assert!(embedder.check("http://127.0.0.1:11434/v1").is_ok());
        assert!(embedder.check("http://localhost:8080/v1").is_ok());
        for bad in ["http://10.0.0.5/v1", "ftp://x.example/v1", "not a url", ""] {
            assert!(embedder.check(bad).is_err(), "{bad:?} accepted");
        }
        assert!(find("embed-key").unwrap().check("sk with spaces").is_err());
        assert!(find("embed-model").unwrap().check("").is_err());
    }

    #[test]
    fn a_saved_key_is_never_shown() {
        let mut stored = HashMap::new();
        stored.insert(SECRET_KEY.to_owned(), "sk-secret-value".to_owned());
        let all = effective(&stored);
        let key = all.iter().find(|e| e.name == "embed-key").unwrap();
        assert_eq!(key.value, SECRET_SHOWN);
        assert_eq!(key.stored.as_deref(), Some(SECRET_SHOWN));
        let json = serde_json::to_string(&all).unwrap();
        assert!(!json.contains("sk-secret-value"), "{json}");
    }

    #[test]
    fn stored_values_are_read_in_their_unit_and_bad_ones_ignored() {
        let mut stored = HashMap::new();
        stored.insert(keys::REFRESH_EVERY.to_owned(), "86400000".to_owned());
        stored.insert("scrape.rate_limit".to_owned(), "lots".to_owned());
        let all = effective(&stored);
        let refresh = all.iter().find(|e| e.name == "link-refresh-hours").unwrap();
        assert_eq!(
            (refresh.value.as_str(), refresh.source),
            ("24", Source::Stored)
        );
        let rate = all.iter().find(|e| e.name == "rate-limit").unwrap();
        assert_eq!((rate.value.as_str(), rate.source), ("1", Source::Default));
        assert_eq!(
            find("link-refresh-hours").unwrap().to_stored("1.5"),
            "5400000"
        );
    }
}

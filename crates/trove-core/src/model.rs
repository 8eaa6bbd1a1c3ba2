//! The types the engine hands out (CLI `--json`, the desktop shell, the UI bindings).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    File,
    Url,
}

impl ItemKind {
    pub fn table(self) -> &'static str {
        match self {
            ItemKind::File => "knowledge_files",
            ItemKind::Url => "scraped_contents",
        }
    }
    pub fn from_table(t: &str) -> Option<Self> {
        match t {
            "knowledge_files" => Some(ItemKind::File),
            "scraped_contents" => Some(ItemKind::Url),
            _ => None,
        }
    }
}

/// A reference to a row of `knowledge_files` (`f12`) or `scraped_contents` (`u7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemRef {
    pub kind: ItemKind,
    pub id: i64,
}

impl ItemRef {
    pub fn file(id: i64) -> Self {
        Self {
            kind: ItemKind::File,
            id,
        }
    }
    pub fn url(id: i64) -> Self {
        Self {
            kind: ItemKind::Url,
            id,
        }
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.kind {
            ItemKind::File => 'f',
            ItemKind::Url => 'u',
        };
        write!(f, "{p}{}", self.id)
    }
}

impl FromStr for ItemRef {
    type Err = Error;
    /// `f12`, `u7`, or a bare number (a file).
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || {
            Error::Invalid(format!(
                "'{s}' is not an item id (expected f12 for a file, u7 for a URL)"
            ))
        };
        let (kind, num) = match s.as_bytes().first() {
            Some(b'f' | b'F') => (ItemKind::File, &s[1..]),
            Some(b'u' | b'U') => (ItemKind::Url, &s[1..]),
            Some(b'0'..=b'9') => (ItemKind::File, s),
            _ => return Err(bad()),
        };
        let id: i64 = num.parse().map_err(|_| bad())?;
        Ok(Self { kind, id })
    }
}

impl Serialize for ItemRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ItemRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Processing,
        Status::Completed,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }

    /// Read a status column. NULL (rows from before the status column, or written by an
    /// older app) reads as completed, as the original design promised.
    pub fn from_db(v: Option<&str>) -> Status {
        match v {
            Some("pending") => Status::Pending,
            Some("processing") => Status::Processing,
            Some("failed") => Status::Failed,
            _ => Status::Completed,
        }
    }

    /// SQL condition selecting rows of this status from a table aliased `t`, NULL-aware and
    /// index-friendly.
    pub fn sql_filter(self) -> &'static str {
        match self {
            Status::Pending => "t.status = 'pending'",
            Status::Processing => "t.status = 'processing'",
            Status::Completed => "(t.status = 'completed' OR t.status IS NULL)",
            Status::Failed => "t.status = 'failed'",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "pending" => Ok(Status::Pending),
            "processing" => Ok(Status::Processing),
            "completed" => Ok(Status::Completed),
            "failed" => Ok(Status::Failed),
            _ => Err(Error::Invalid(format!(
                "'{s}' is not a status (pending, processing, completed, failed)"
            ))),
        }
    }
}

/// One row of the library: a file or a URL, with its job's live fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Item {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: ItemRef,
    pub kind: ItemKind,
    /// File name, or page title, or the URL.
    pub name: String,
    /// Absolute path or URL (final URL after redirects once fetched).
    pub location: String,
    pub mime: Option<String>,
    pub size: Option<i64>,
    pub status: Status,
    pub progress: u8,
    pub stage: Option<String>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub chunk_count: i64,
    pub duplicate_of: Option<String>,
    /// RFC 3339, UTC.
    pub added_at: String,
    pub updated_at: String,
    /// Which reader produced the text and what it could not read (PDF), e.g.
    /// "pdf_oxide; no text layer on pages 7–9".
    pub extractor: Option<String>,
    /// A watched folder's file that was deleted from disk, kept (the keep-missing setting):
    /// since when (RFC 3339). Its text stays searchable until the file is back or the item
    /// is removed.
    pub missing_since: Option<String>,
    /// What the file's format says about it, for its details: an e-mail's From, To, Cc and
    /// Date; a mailbox's message count. Empty for most.
    pub metadata: Vec<MetaField>,
}

/// One line of an item's details: "From" → "Ann <ann@example.com>".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetaField {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Skipped {
    pub input: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AddReport {
    pub added: Vec<Item>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Counts {
    pub pending: i64,
    pub processing: i64,
    pub completed: i64,
    pub failed: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FailedRow {
    pub id: String,
    pub name: String,
    pub error: String,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StuckRow {
    pub id: String,
    pub name: String,
    pub added_at: String,
    pub minutes_pending: i64,
}

/// The seed's processing-time distribution: seconds from upload to completion → count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DurationBucket {
    pub seconds: i64,
    pub count: i64,
}

/// Worker concurrency the engine accepts: the one source of truth for the CLI, the engine
/// and the UI (its bindings are generated from these).
pub const CONCURRENCY_MIN: u32 = 1;
pub const CONCURRENCY_MAX: u32 = 16;
/// A search query is cut to this many characters…
pub const QUERY_MAX_CHARS: usize = 1_000;
/// …and to this many words (a pasted page would otherwise become a 40,000-term MATCH).
pub const QUERY_MAX_TERMS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueueState {
    pub paused: bool,
    pub concurrency: u32,
    pub running: u32,
    /// Why this process's worker pool cannot process right now (locked, full or read-only
    /// database), a sentence for a banner; null when all is well.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overview {
    pub counts: Counts,
    pub failed: Vec<FailedRow>,
    pub stuck: Vec<StuckRow>,
    pub distribution: Vec<DurationBucket>,
    pub queue: QueueState,
}

/// A job as `trove show` reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub stalls: u32,
    pub progress: u8,
    pub stage: Option<String>,
    pub last_error: Option<String>,
    pub run_after_ms: i64,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub item_id: String,
    pub name: String,
    pub location: String,
    pub chunk_id: i64,
    /// The page the hit is on (paged documents: PDF), 1-based.
    pub page: Option<u32>,
    /// What the document's pages are ([`page_unit`]): "page", "slide", "sheet", "message".
    pub page_unit: Option<String>,
    /// Highlighted terms are wrapped in U+0002 … U+0003.
    pub snippet: String,
    /// Rank score, higher first: in hybrid search the best passage's similarity plus a keyword
    /// nudge; reciprocal rank in one leg alone; 0 in a filter-only listing.
    pub score: f64,
    /// Cosine similarity of the passage to the query when the semantic leg found it.
    pub similarity: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    Keyword,
    Semantic,
    Hybrid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
    pub mode: SearchMode,
    pub notice: Option<String>,
    /// A model is installed but has no vectors yet for what is here: offer
    /// "Build semantic index" (`build_semantic_index`, `trove reindex`).
    pub can_build_index: bool,
    /// Nothing is a close match: `hits` are the nearest few, shown as such.
    pub no_close_matches: bool,
}

/// One passage handed to the answering model, numbered as the answer cites it ([n]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AskPassage {
    pub n: u32,
    pub item_id: String,
    pub name: String,
    pub location: String,
    pub chunk_id: i64,
    pub page: Option<u32>,
    pub page_unit: Option<String>,
    /// The passage with the text around it (what the model reads), bounded.
    pub text: String,
    pub similarity: Option<f32>,
}

/// One earlier question and its answer, sent with a follow-up question.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AskTurn {
    pub question: String,
    pub answer: String,
}

/// What `ask` streams while it works.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AskEvent {
    /// The retrieved passages, first. `relevant`: something in the library is close to the
    /// question; `answering`: an endpoint will now write an answer (`token` events).
    Passages {
        passages: Vec<AskPassage>,
        relevant: bool,
        answering: bool,
    },
    /// A piece of the answer.
    Token { text: String },
}

/// The outcome of `ask`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AskAnswer {
    pub question: String,
    pub passages: Vec<AskPassage>,
    /// Something in the library is close to the question (else: "I don't know").
    pub relevant: bool,
    /// The endpoint's answer: none without an endpoint, when nothing is relevant, or when
    /// the endpoint failed (`error`).
    pub answer: Option<String>,
    /// The passage numbers the answer cites.
    pub cited: Vec<u32>,
    /// The chat endpoint configured (none: Ask shows the passages only).
    pub endpoint: Option<String>,
    pub model: Option<String>,
    /// Why the endpoint wrote no answer.
    pub error: Option<String>,
}

/// A watched folder: kept in sync with the files on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub path: String,
    /// Globs a file must match (none: every file).
    pub include: Vec<String>,
    /// Globs of files and folders left out (besides `.gitignore`d and hidden ones).
    pub exclude: Vec<String>,
    /// Changes are followed while Trove runs (false: paused by the user).
    pub watching: bool,
    /// `ok`; `unavailable` (the folder is not there: its items stay until it comes back);
    /// `polling` (the system's limit of watches was reached: rescanned every minute).
    #[cfg_attr(feature = "ts", ts(type = "\"ok\" | \"unavailable\" | \"polling\""))]
    pub state: String,
    /// Why it is not `ok`, or the subfolders that could not be read.
    pub message: Option<String>,
    /// Files of the folder in the library.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub files: i64,
    /// Files left out by kind: `{"images": 214}`.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>"))]
    pub skipped: std::collections::BTreeMap<String, u64>,
    /// RFC 3339; None before the first scan.
    pub last_scan: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_scan_ms: Option<i64>,
}

/// What one scan of a watched folder found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub folder: i64,
    /// New files queued.
    pub added: u32,
    /// Files whose size or time changed, queued again (same item).
    pub changed: u32,
    /// Items whose file is gone, removed with their text and vectors.
    pub removed: u32,
    /// Items whose file is gone, kept and marked missing (the keep-missing setting), and
    /// those already missing.
    pub missing: u32,
    /// Files moved or renamed inside the folder: the same item, its new path, not read again.
    pub renamed: u32,
    pub unchanged: u32,
    /// Changed files being processed right now (a later scan queues them).
    pub busy: u32,
    /// Files left out by kind.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>"))]
    pub skipped: std::collections::BTreeMap<String, u64>,
    /// Files whose contents this scan read (to recognise a type or a move).
    pub reads: u32,
    /// The folder is not there: nothing was changed.
    pub unavailable: bool,
    /// The items this scan added (for an add report; not sent).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub new_items: Vec<ItemRef>,
}

/// How much of the library the active embedding model has vectors for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// `local:all-MiniLM-L6-v2`, `openai:<model>@<host>`.
    pub model: String,
    /// Passages (chunks) with a vector of this model.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub embedded: u64,
    /// Passages in the library.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ChunkView {
    pub item_id: String,
    pub name: String,
    pub location: String,
    pub text: String,
    /// The chunk's range inside `text`, in UTF-16 code units (what JavaScript indexes by).
    pub start: u32,
    pub end: u32,
    /// `text` is a window of the document around the chunk: the page it starts on (PDF
    /// pages are separated by form feeds; 1 for other documents) and whether text before
    /// or after it was left out.
    pub first_page: u32,
    pub cut_before: bool,
    pub cut_after: bool,
}

/// A same-site crawl from one start link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlOptions {
    /// Follow links this many clicks away from the start page (0 = the start page only).
    pub max_depth: u32,
    /// At most this many pages in the crawl, the start page included.
    pub max_pages: u32,
    /// Stay under the start page's folder (`/docs/intro` → `/docs/…`), not just the host.
    pub same_prefix: bool,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        Self {
            max_depth: 2,
            max_pages: 50,
            same_prefix: false,
        }
    }
}

/// What a page of a paged document is called, by its MIME type: a PDF's pages, a
/// presentation's slides, a spreadsheet's sheets, a mailbox's messages.
pub fn page_unit(mime: Option<&str>) -> &'static str {
    match mime.unwrap_or("") {
        m if m.contains("presentation") || m == "application/vnd.ms-powerpoint" => "slide",
        m if m.contains("spreadsheet") || m == "application/vnd.ms-excel" => "sheet",
        "application/mbox" => "message",
        _ => "page",
    }
}

// ----- search filters (the `type:`, `in:`, `after:`, `before:` of a query) -----------------

/// Kinds a `type:` filter names, each as file extensions and as the MIME types a link may
/// have. Any other value is taken as a file extension (`type:py`).
pub const TYPE_GROUPS: &[(&[&str], &[&str], &[&str])] = &[
    (&["pdf"], &["pdf"], &["application/pdf"]),
    (
        &["word", "document", "documents", "doc", "docs"],
        &["doc", "docx", "odt", "rtf"],
        &[],
    ),
    (
        &["slides", "slide", "presentation", "presentations", "deck"],
        &["ppt", "pptx", "odp"],
        &[],
    ),
    (
        &["sheet", "sheets", "spreadsheet", "spreadsheets", "excel"],
        &["xls", "xlsx", "ods", "csv"],
        &["text/csv"],
    ),
    (
        &["email", "emails", "mail"],
        &["eml", "mbox"],
        &["message/rfc822"],
    ),
    (&["book", "books", "ebook", "epub"], &["epub"], &[]),
    (&["html", "htm"], &["html", "htm"], &["text/html"]),
    (&["markdown", "md"], &["md", "markdown"], &["text/markdown"]),
    (&["text", "txt"], &["txt", "log"], &["text/plain"]),
    (
        &["image", "images", "picture", "pictures", "photo", "photos"],
        &["png", "jpg", "jpeg", "tif", "tiff", "webp"],
        &[],
    ),
    (
        &["code", "source"],
        &[
            "rs", "py", "js", "ts", "tsx", "jsx", "go", "c", "h", "cc", "cpp", "hpp", "java", "kt",
            "rb", "php", "cs", "swift", "sh", "sql", "toml", "yaml", "yml", "css",
        ],
        &[],
    ),
];

/// `type:` values that mean a source rather than a format.
pub const SOURCE_LINKS: &[&str] = &[
    "link", "links", "url", "urls", "web", "page", "pages", "site",
];
pub const SOURCE_FILES: &[&str] = &["file", "files"];

/// Which documents a query may find.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filters {
    /// `type:` values, lowercased: any of the kinds, and any of the sources (`file`, `link`).
    pub types: Vec<String>,
    /// `in:` values (any of them).
    pub within: Vec<String>,
    /// `after:` day, `YYYY-MM-DD`: added on or after it.
    pub after: Option<String>,
    /// `before:` day, `YYYY-MM-DD`: added before it.
    pub before: Option<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.within.is_empty()
            && self.after.is_none()
            && self.before.is_none()
    }
}

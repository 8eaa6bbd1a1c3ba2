//! What the tools return: plain, documented shapes for a language model (highlight marks
//! taken out, ids as text), each bounded.

use schemars::JsonSchema;
use serde::Serialize;
use trove_core::{AddReport, ChunkView, Counts, Item, Overview, SearchResponse};

use crate::limits::{slice_chars, STATUS_FAILED_MAX};

/// Highlight marks (U+0002 … U+0003) out of a snippet.
fn plain(s: &str) -> String {
    s.replace(['\u{2}', '\u{3}'], "")
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchOutput {
    pub hits: Vec<HitOut>,
    /// keyword, semantic or hybrid: what ran.
    pub mode: String,
    /// Nothing is a close match: the hits are only the nearest.
    pub no_close_matches: bool,
    /// Why the search ran differently than asked (no semantic index yet…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HitOut {
    /// The item's id (for `read`, `retry`, trove://item/<id>).
    pub item: String,
    pub title: String,
    /// The file's path or the page's URL.
    pub location: String,
    /// The passage's id (for `read` with `passage`).
    pub passage: i64,
    /// The page (or slide, sheet…) the passage is on, for paged documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_unit: Option<String>,
    pub snippet: String,
    /// Rank score (higher is better; comparable within one search only).
    pub score: f64,
}

impl From<SearchResponse> for SearchOutput {
    fn from(r: SearchResponse) -> Self {
        Self {
            hits: r
                .hits
                .into_iter()
                .map(|h| HitOut {
                    item: h.item_id,
                    title: h.name,
                    location: h.location,
                    passage: h.chunk_id,
                    page: h.page,
                    page_unit: h.page_unit,
                    snippet: plain(&h.snippet),
                    score: h.score,
                })
                .collect(),
            mode: serde_json::to_value(r.mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            no_close_matches: r.no_close_matches,
            notice: r.notice,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadOutput {
    pub item: String,
    pub title: String,
    pub location: String,
    /// pending, processing, completed or failed (only completed items have text).
    pub status: String,
    pub text: String,
    /// The first page `text` is on (paged documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_page: Option<u32>,
    /// The last page `text` reaches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_page: Option<u32>,
    /// Pages in the document (paged documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Characters of the whole text.
    pub total_chars: u64,
    /// The text was cut to the size asked for (`max_chars`).
    pub truncated: bool,
    /// Where to continue (pass as `offset`), when the text was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl ReadOutput {
    fn base(it: &Item, text: String, total_chars: u64) -> Self {
        Self {
            item: it.id.to_string(),
            title: it.name.clone(),
            location: it.location.clone(),
            status: it.status.to_string(),
            text,
            first_page: None,
            last_page: None,
            pages: None,
            total_chars,
            truncated: false,
            next_offset: None,
        }
    }

    pub fn empty(it: &Item) -> Self {
        Self::base(it, String::new(), 0)
    }

    pub fn passage(it: &Item, view: ChunkView, max: usize) -> Self {
        let total = view.text.chars().count() as u64;
        let (text, cut) = slice_chars(&view.text, 0, max);
        let mut out = Self::base(it, text.to_owned(), total);
        out.truncated = cut.is_some();
        out.first_page =
            (view.first_page > 1 || view.text.contains('\x0c')).then_some(view.first_page);
        out
    }

    pub fn pages(it: &Item, text: &str, from: u32, to: u32, max: usize) -> Result<Self, String> {
        let pages: Vec<&str> = text.split('\x0c').collect();
        let n = pages.len() as u32;
        if from > n {
            return Err(format!(
                "{} has {n} page(s); page {from} does not exist",
                it.id
            ));
        }
        let to = to.min(n);
        let mut body = String::new();
        let mut budget = max;
        let mut last = from;
        let mut truncated = false;
        for (page_no, page) in (from..=to).zip(&pages[(from - 1) as usize..to as usize]) {
            if page_no > from {
                if budget < 2 {
                    truncated = true;
                    break;
                }
                body.push_str("\n\n");
                budget -= 2;
            }
            let (part, cut) = slice_chars(page, 0, budget);
            body.push_str(part);
            budget -= part.chars().count();
            last = page_no;
            if cut.is_some() {
                truncated = true;
                break;
            }
        }
        let mut out = Self::base(it, body, text.chars().count() as u64);
        out.first_page = Some(from);
        out.last_page = Some(last);
        out.pages = Some(n);
        out.truncated = truncated;
        Ok(out)
    }

    pub fn span(it: &Item, text: &str, offset: u64, max: usize) -> Self {
        let (part, next) = slice_chars(text, offset, max);
        let mut out = Self::base(
            it,
            part.replace('\x0c', "\n\n"),
            text.chars().count() as u64,
        );
        out.next_offset = next;
        out.truncated = next.is_some();
        let pages = text.matches('\x0c').count() as u32 + 1;
        if pages > 1 {
            out.pages = Some(pages);
        }
        out
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemOut {
    pub item: String,
    /// file or link
    pub kind: String,
    pub title: String,
    pub location: String,
    pub status: String,
    /// Why it failed, for a failed item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Passages indexed.
    pub passages: i64,
    /// RFC 3339, UTC.
    pub added_at: String,
}

impl From<Item> for ItemOut {
    fn from(it: Item) -> Self {
        Self {
            item: it.id.to_string(),
            kind: match it.kind {
                trove_core::ItemKind::File => "file",
                trove_core::ItemKind::Url => "link",
            }
            .to_owned(),
            title: it.name,
            location: it.location,
            status: it.status.to_string(),
            error: it.error,
            passages: it.chunk_count,
            added_at: it.added_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListOutput {
    pub items: Vec<ItemOut>,
    /// Pass as `offset` for the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

impl ListOutput {
    pub fn new((items, next_offset): (Vec<Item>, Option<u32>)) -> Self {
        Self {
            items: items.into_iter().map(ItemOut::from).collect(),
            next_offset,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CountsOut {
    pub pending: i64,
    pub processing: i64,
    pub completed: i64,
    pub failed: i64,
    pub total: i64,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        Self {
            pending: c.pending,
            processing: c.processing,
            completed: c.completed,
            failed: c.failed,
            total: c.total,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedOut {
    pub item: String,
    pub title: String,
    pub error: String,
    pub added_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StuckOut {
    pub item: String,
    pub title: String,
    pub minutes_pending: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusOutput {
    pub files: CountsOut,
    pub links: CountsOut,
    /// The most recent failures (at most 20), with their errors.
    pub failed: Vec<FailedOut>,
    /// Items pending for over 10 minutes.
    pub stuck: Vec<StuckOut>,
    /// Seconds from adding to completion → how many items.
    pub processing_seconds: Vec<(i64, i64)>,
    pub paused: bool,
    pub running_jobs: u32,
    /// Why the queue cannot run now, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl StatusOutput {
    pub fn new(files: Counts, links: Counts, o: Overview) -> Self {
        Self {
            files: files.into(),
            links: links.into(),
            failed: o
                .failed
                .into_iter()
                .take(STATUS_FAILED_MAX)
                .map(|f| FailedOut {
                    item: f.id,
                    title: f.name,
                    error: f.error,
                    added_at: f.added_at,
                })
                .collect(),
            stuck: o
                .stuck
                .into_iter()
                .take(STATUS_FAILED_MAX)
                .map(|s| StuckOut {
                    item: s.id,
                    title: s.name,
                    minutes_pending: s.minutes_pending,
                })
                .collect(),
            processing_seconds: o
                .distribution
                .into_iter()
                .map(|b| (b.seconds, b.count))
                .collect(),
            paused: o.queue.paused,
            running_jobs: o.queue.running,
            problem: o.queue.problem,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedOut {
    pub input: String,
    pub reason: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddOutput {
    pub added: Vec<ItemOut>,
    pub skipped: Vec<SkippedOut>,
}

impl From<AddReport> for AddOutput {
    fn from(r: AddReport) -> Self {
        Self {
            added: r.added.into_iter().map(ItemOut::from).collect(),
            skipped: r
                .skipped
                .into_iter()
                .map(|s| SkippedOut {
                    input: s.input,
                    reason: s.reason,
                })
                .collect(),
        }
    }
}

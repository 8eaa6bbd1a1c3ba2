//! Ports: what the engine needs from the outside world, as traits the composition root
//! (trove-runtime) implements — a text embedder and a web fetcher — and the slot holding
//! whichever is configured. Below every other layer: ingest, search and the engine all use
//! them, none of them owns them.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use crate::error::JobError;

/// Turns text into vectors. Implemented outside the engine (local model, remote service).
pub trait Embedder: Send + Sync {
    /// Identifies the model; vectors of different models are never mixed.
    fn model_id(&self) -> &str;
    fn dims(&self) -> usize;
    /// L2-normalised vectors, one per text.
    fn embed(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, JobError>;
    /// The windows of a chunk text the model would not read whole ([`crate::chunk::windows`]
    /// with the model's own tokenizer and limit): each gets a vector of its own. None (the
    /// default) for a model that reads every chunk whole, or whose limit is not known here
    /// (a remote service: chunks are at most 1,400 bytes, well inside what such services
    /// read).
    fn windows(&self, _text: &str) -> Vec<std::ops::Range<usize>> {
        Vec::new()
    }
}

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

/// Why a chat model wrote no answer, as a sentence for the person asking.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ChatError(pub String);

/// Writes answers (Ask): an OpenAI-compatible chat endpoint, implemented outside the engine.
pub trait ChatModel: Send + Sync {
    /// Where it is, for people (`http://localhost:11434/v1`), without credentials.
    fn endpoint(&self) -> String;
    /// The model asked for.
    fn model(&self) -> String;
    /// The answer to `messages`, each piece handed to `on_token` as it arrives; returns
    /// the whole answer.
    fn answer(
        &self,
        messages: &[ChatMessage],
        on_token: &mut dyn FnMut(&str),
    ) -> std::result::Result<String, ChatError>;
}

#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub ignore_robots: bool,
    /// Part of a crawl: (start URL, stay under its folder). The fetcher returns in
    /// [`FetchedPage::links`] only the links of the same site (and folder).
    pub crawl_scope: Option<(String, bool)>,
}

#[derive(Debug, Clone)]
pub struct FetchedPage {
    pub final_url: String,
    pub http_status: u16,
    pub content_type: String,
    pub title: Option<String>,
    pub text: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: String,
    pub size: u64,
    pub links: Vec<String>,
    /// A PDF body: the engine extracts it like a PDF file (`text` is empty then).
    pub pdf: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub enum Fetched {
    NotModified { final_url: String },
    Page(Box<FetchedPage>),
}

pub type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = std::result::Result<Fetched, JobError>> + Send + 'a>>;

/// Fetches web pages. Implemented outside the engine (HTTP, politeness, main content).
pub trait Fetcher: Send + Sync {
    fn fetch(&self, req: FetchRequest) -> FetchFuture<'_>;
}

/// The configured embedder and fetcher (either may be absent: keyword search only, or a
/// build without web access). Swappable at run time (Settings).
#[derive(Default)]
pub struct Ports {
    fetcher: RwLock<Option<Arc<dyn Fetcher>>>,
    embedder: RwLock<Option<Arc<dyn Embedder>>>,
}

impl Ports {
    pub fn set_fetcher(&self, f: Option<Arc<dyn Fetcher>>) {
        *self.fetcher.write().unwrap_or_else(|p| p.into_inner()) = f;
    }
    pub fn set_embedder(&self, e: Option<Arc<dyn Embedder>>) {
        *self.embedder.write().unwrap_or_else(|p| p.into_inner()) = e;
    }
    pub fn fetcher(&self) -> Option<Arc<dyn Fetcher>> {
        self.fetcher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.embedder
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

//! Trove's engine. No GUI dependencies: builds and tests on a headless machine.
//!
//! Layers, dependencies pointing down only (ARCHITECTURE.md; `tests/layers.rs` checks it):
//!
//! 1. [`error`], [`model`], [`clock`], [`chunk`], [`url`], [`config`], [`stats`], [`ports`]:
//!    types and pure helpers.
//! 2. [`store`]: every SQL string (pool, migrations, items, content, vectors, jobs,
//!    events, settings, crawl).
//! 3. [`library`] (adding, changing, settings), [`ingest`] (what a job does), [`search`].
//! 4. [`worker`]: the pool that claims and runs jobs.
//! 5. [`Engine`]: the thin facade the CLI and the app use.

pub mod ask;
pub mod chunk;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod ingest;
pub mod library;
pub mod model;
pub mod ports;
pub mod search;
pub mod stats;
pub mod store;
pub mod url;
pub mod worker;

pub use config::{EngineConfig, ExtractMode, QueueConfig};
pub use engine::Engine;
pub use error::{Error, JobError, Result, Retry};
pub use model::*;
pub use ports::{
    ChatError, ChatMessage, ChatModel, ChatRole, Embedder, FetchFuture, FetchRequest, Fetched,
    FetchedPage, Fetcher,
};
pub use store::{events, jobs as queue, migrate, pool as db};
pub use url::normalize_url;

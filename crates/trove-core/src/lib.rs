//! Trove's engine. No GUI dependencies: builds and tests on a headless machine.
//!
//! * [`db`] opens the SQLite file with the right pragmas; [`migrate`] versions its schema.
//! * [`queue`] is the durable job queue; [`worker`] runs it; [`pipeline`] is what a job does.
//! * [`Engine`] offers every operation the CLI and the desktop app need.
//! * [`events`] streams every change to subscribers in this and other processes.

pub mod chunk;
pub mod clock;
pub mod crawl;
pub mod db;
pub mod engine;
pub mod error;
pub mod events;
pub mod items;
pub mod migrate;
pub mod model;
pub mod pipeline;
pub mod queue;
pub mod search;
pub mod worker;

pub use engine::{normalize_url, Engine, EngineConfig, ExtractMode};
pub use error::{Error, JobError, Result, Retry};
pub use model::*;
pub use pipeline::{Embedder, FetchRequest, Fetched, FetchedPage, Fetcher};

//! The engine's configuration: queue timings, chunk sizes, extraction isolation and limits.
//! Plain data, below every layer that reads it.

use std::path::PathBuf;

use crate::chunk::ChunkConfig;
use crate::model::{CONCURRENCY_MAX, CONCURRENCY_MIN};

#[derive(Debug, Clone)]
/// Retry and lease timings of the durable queue.
pub struct QueueConfig {
    pub max_attempts: u32,
    pub lease_ms: i64,
    pub backoff_base_ms: i64,
    pub backoff_cap_ms: i64,
    pub max_stalls: u32,
    /// A server's `Retry-After` is honoured up to this long; the queue never parks a job
    /// for longer (the fetcher fails the item with the server's request named instead).
    pub retry_after_cap_ms: i64,
    /// A job's hard deadline: this long for any job, plus [`Self::deadline_per_mib_ms`] for
    /// each MiB of the file. Past it the job fails ("took longer than …") and its slot is
    /// freed, even when the work is a blocking parse.
    pub deadline_ms: i64,
    pub deadline_per_mib_ms: i64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            lease_ms: 30_000,
            backoff_base_ms: 2_000,
            backoff_cap_ms: 5 * 60_000,
            max_stalls: 2,
            retry_after_cap_ms: 60 * 60_000,
            deadline_ms: 2 * 60_000,
            deadline_per_mib_ms: 30_000,
        }
    }
}

/// How extraction of risky formats (PDF, images through OCR) is isolated.
#[derive(Debug, Clone)]
pub enum ExtractMode {
    /// In this process, with panics caught. Hangs cannot be stopped.
    InProcess,
    /// In long-lived child processes (`exe __extract`), one killed when a file takes
    /// longer than the pool's timeout, crashes or eats its memory cap.
    Sandbox(std::sync::Arc<trove_extract::sandbox::SandboxPool>),
}

impl ExtractMode {
    /// A pool of children running `exe __extract`, with a per-file limit of `timeout`.
    pub fn sandbox(exe: impl Into<PathBuf>, timeout: std::time::Duration) -> Self {
        ExtractMode::Sandbox(std::sync::Arc::new(
            trove_extract::sandbox::SandboxPool::new(exe, timeout),
        ))
    }
}

/// Everything the engine is opened with (settings that can change while it runs live in
/// the database: see `library::settings`).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub queue: QueueConfig,
    pub chunk: ChunkConfig,
    pub extract: ExtractMode,
    pub limits: trove_extract::Limits,
    /// Worker concurrency when the database has no setting yet.
    pub default_concurrency: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            queue: QueueConfig::default(),
            chunk: ChunkConfig::default(),
            extract: ExtractMode::InProcess,
            limits: trove_extract::Limits::default(),
            default_concurrency: 2,
        }
    }
}

impl EngineConfig {
    /// The default concurrency, within the accepted range.
    pub fn default_concurrency(&self) -> u32 {
        self.default_concurrency
            .clamp(CONCURRENCY_MIN, CONCURRENCY_MAX)
    }
}

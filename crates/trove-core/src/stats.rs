//! Counters of this process, read by status displays and benchmarks.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Stats {
    /// Jobs running in this process's worker pool right now.
    running: AtomicU32,
    /// Vectors computed by the embedder since start (the cache's hit rate shows in this).
    embeddings_computed: AtomicU64,
    /// Why the worker pool cannot process right now (a locked, full or read-only
    /// database), for the status banner. None when all is well.
    problem: Mutex<Option<String>>,
}

impl Stats {
    pub fn running(&self) -> u32 {
        self.running.load(Ordering::Relaxed)
    }
    pub fn set_running(&self, n: u32) {
        self.running.store(n, Ordering::Relaxed);
    }
    pub fn embeddings_computed(&self) -> u64 {
        self.embeddings_computed.load(Ordering::Relaxed)
    }
    pub fn add_embeddings(&self, n: usize) {
        self.embeddings_computed
            .fetch_add(n as u64, Ordering::Relaxed);
    }
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn set_problem(&self, problem: Option<String>) {
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = problem;
    }
}

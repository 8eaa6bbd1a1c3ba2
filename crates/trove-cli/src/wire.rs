//! Builds an engine for this binary: sandboxed PDF extraction through this very executable,
//! and the web fetcher and embedding model when they are available.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use trove_core::{Engine, EngineConfig, ExtractMode};

pub fn engine_config() -> EngineConfig {
    let mut cfg = EngineConfig::default();
    if let Ok(exe) = std::env::current_exe() {
        cfg.extract = ExtractMode::Sandbox {
            exe,
            timeout: Duration::from_secs(60),
        };
    }
    cfg
}

pub fn open_engine(db: &Path) -> Result<Arc<Engine>> {
    let engine = Engine::open(db, engine_config())?;
    Ok(engine)
}

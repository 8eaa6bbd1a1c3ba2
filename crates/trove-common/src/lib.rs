//! Small, dependency-light helpers shared by every Trove crate (CLI, app, engine, fetcher,
//! extractors), so that one thing is written one way everywhere:
//!
//! * [`size::human_size`]: byte counts for people ("1.5 MB"), one unit convention for the
//!   CLI, error messages and the UI;
//! * [`duration::human_duration`]: durations for people ("3 s", "2 min");
//! * [`url::normalize_url`]: the one normalisation of links (adding, crawling,
//!   de-duplicating).

pub mod duration;
pub mod size;
pub mod url;

//! In-memory robots.txt cache, one entry per origin (scheme, host, port).
//!
//! Policy:
//! * 2xx → the file's rules, cached for [`ROBOTS_TTL`].
//! * 4xx (404 in particular) → no restrictions, cached for [`ROBOTS_TTL`].
//! * 5xx / 429 → treated as "allow everything" for now (RFC 9309 would say
//!   "disallow everything" for a while), cached only for
//!   [`ROBOTS_ERROR_TTL`] so the file is asked for again soon.
//! * connection errors / timeouts → not cached; the fetch fails with the same
//!   transient error (the page itself would not load either).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

pub(crate) const ROBOTS_TTL: Duration = Duration::from_secs(60 * 60);
pub(crate) const ROBOTS_ERROR_TTL: Duration = Duration::from_secs(10 * 60);
/// Above this many origins, stale entries are dropped on insert.
const PRUNE_ABOVE: usize = 4096;

#[derive(Debug, Clone)]
pub(crate) enum RobotsRules {
    AllowAll,
    Rules(Arc<str>),
}

impl RobotsRules {
    pub(crate) fn allows(&self, agent: &str, url: &Url) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::Rules(body) => robotstxt::DefaultMatcher::default()
                .one_agent_allowed_by_robots(body, agent, url.as_str()),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) rules: RobotsRules,
    fetched: Instant,
    ttl: Duration,
}

impl Entry {
    pub(crate) fn ok(rules: RobotsRules) -> Self {
        Self {
            rules,
            fetched: Instant::now(),
            ttl: ROBOTS_TTL,
        }
    }

    pub(crate) fn unavailable() -> Self {
        Self {
            rules: RobotsRules::AllowAll,
            fetched: Instant::now(),
            ttl: ROBOTS_ERROR_TTL,
        }
    }

    pub(crate) fn is_fresh(&self) -> bool {
        self.fetched.elapsed() < self.ttl
    }
}

type Cell = Arc<tokio::sync::Mutex<Option<Entry>>>;

/// Per-origin async cells: concurrent fetches to one origin wait for a single
/// robots.txt request instead of each sending their own.
#[derive(Default)]
pub(crate) struct RobotsCache {
    cells: Mutex<HashMap<String, Cell>>,
}

impl RobotsCache {
    pub(crate) fn cell(&self, url: &Url) -> Cell {
        let key = url.origin().ascii_serialization();
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        if cells.len() > PRUNE_ABOVE && !cells.contains_key(&key) {
            cells.retain(|_, c| match c.try_lock() {
                Ok(e) => e.as_ref().is_some_and(Entry::is_fresh),
                Err(_) => true, // in use
            });
        }
        cells.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_the_product_token() {
        let rules = RobotsRules::Rules(
            "User-agent: Trove\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n".into(),
        );
        let ok = Url::parse("http://h/public/a").unwrap();
        let no = Url::parse("http://h/private/a").unwrap();
        assert!(rules.allows("Trove", &ok));
        assert!(!rules.allows("Trove", &no));
        assert!(!rules.allows("OtherBot", &ok));
        assert!(RobotsRules::AllowAll.allows("Trove", &no));
    }
}

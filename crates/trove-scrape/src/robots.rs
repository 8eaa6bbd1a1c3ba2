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
//! * a file the parser cannot cope with (it panics, e.g. on very long lines of
//!   non-ASCII text) → no restrictions: the entry is replaced by
//!   [`RobotsRules::AllowAll`] for the rest of its lifetime.

use std::cell::Cell as StdCell;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, Once};
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

/// The robots.txt parser panicked on this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unparseable;

impl RobotsRules {
    /// Whether `agent` may fetch `url`. The parser runs under `catch_unwind`
    /// (robotstxt 0.3 slices strings at byte offsets that can fall inside a
    /// character on lines over ~16 KB); a panic becomes [`Unparseable`].
    pub(crate) fn allows(&self, agent: &str, url: &Url) -> Result<bool, Unparseable> {
        match self {
            RobotsRules::AllowAll => Ok(true),
            RobotsRules::Rules(body) => quietly(|| {
                robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(
                    body,
                    agent,
                    url.as_str(),
                )
            })
            .map_err(|()| Unparseable),
        }
    }
}

thread_local! {
    static QUIET: StdCell<u32> = const { StdCell::new(0) };
}

/// Runs `f`, turning a panic into `Err(())` without the panic hook printing
/// it (the message would quote the whole robots.txt). The hook is process
/// global, so a wrapping hook is installed once; it stays silent only on a
/// thread that is inside this function.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(StdCell::get) == 0 {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(q.get() + 1));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(q.get() - 1));
    r.map_err(|_| ())
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

    /// The parser cannot read these rules: allow everything for the rest of
    /// this entry's lifetime. True when the entry still held `rules` (so the
    /// caller logs once per file, not once per waiting fetch).
    pub(crate) fn give_up_on(&mut self, rules: &RobotsRules) -> bool {
        match (&self.rules, rules) {
            (RobotsRules::Rules(mine), RobotsRules::Rules(theirs)) if Arc::ptr_eq(mine, theirs) => {
                self.rules = RobotsRules::AllowAll;
                true
            }
            _ => false,
        }
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
        assert_eq!(rules.allows("Trove", &ok), Ok(true));
        assert_eq!(rules.allows("Trove", &no), Ok(false));
        assert_eq!(rules.allows("OtherBot", &ok), Ok(false));
        assert_eq!(RobotsRules::AllowAll.allows("Trove", &no), Ok(true));
    }

    /// A line over robotstxt's 16,664-byte limit made of 2-byte characters:
    /// the parser skips the excess counting characters but advances by bytes.
    fn panicking_robots_txt() -> String {
        format!(
            "User-agent: *\nDisallow: /{}\nAllow: /\n",
            "\u{e9}".repeat(10_000)
        )
    }

    #[test]
    fn the_parser_panics_on_long_multibyte_lines_and_that_is_contained() {
        let body = panicking_robots_txt();
        let url = Url::parse("http://h/page").unwrap();
        // The upstream bug, reproduced: the bare matcher panics (caught
        // quietly: the default hook would print the whole file).
        let raw = quietly(|| {
            robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(
                &body,
                "Trove",
                url.as_str(),
            )
        });
        assert!(raw.is_err(), "robotstxt no longer panics on this input");
        // Ours reports it instead.
        let rules = RobotsRules::Rules(body.into());
        assert_eq!(rules.allows("Trove", &url), Err(Unparseable));
        // The same length in ASCII is fine.
        let ascii = RobotsRules::Rules(
            format!("User-agent: *\nDisallow: /{}\n", "e".repeat(20_000)).into(),
        );
        assert_eq!(ascii.allows("Trove", &url), Ok(true));
    }

    #[test]
    fn giving_up_replaces_only_the_same_rules() {
        let rules = RobotsRules::Rules("User-agent: *\nDisallow: /\n".into());
        let mut entry = Entry::ok(rules.clone());
        let other = RobotsRules::Rules("User-agent: *\nDisallow: /\n".into());
        assert!(!entry.give_up_on(&other));
        assert!(matches!(entry.rules, RobotsRules::Rules(_)));
        assert!(entry.give_up_on(&rules));
        assert!(matches!(entry.rules, RobotsRules::AllowAll));
        assert!(entry.is_fresh());
        assert!(!entry.give_up_on(&rules), "only the first caller logs");
    }

    #[tokio::test]
    async fn a_panic_while_a_cell_is_locked_does_not_poison_it() {
        let cache = RobotsCache::default();
        let url = Url::parse("http://h/").unwrap();
        let cell = cache.cell(&url);
        let c = cell.clone();
        let r = tokio::spawn(async move {
            let mut guard = c.lock().await;
            *guard = Some(Entry::ok(RobotsRules::AllowAll));
            panic!("parser blew up while the cell was locked");
        })
        .await;
        assert!(r.is_err());
        // tokio's Mutex has no poisoning: the cell can be locked again and
        // holds what was written before the panic.
        let cell = cache.cell(&url);
        let guard = cell.lock().await;
        assert!(guard.as_ref().is_some_and(Entry::is_fresh));
    }
}

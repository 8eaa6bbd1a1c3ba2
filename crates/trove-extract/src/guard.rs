//! Panic containment for third-party parsers.
//!
//! The panic hook is process-global, so swapping it around each call would race
//! with other threads. Instead a wrapping hook is installed once; it stays quiet
//! while the current thread is inside [`run`] and delegates to the previous hook
//! otherwise.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

static INSTALL: Once = Once::new();

fn install_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| q.get()) == 0 {
                previous(info);
            }
        }));
    });
}

/// A parser panicked; the message, when it was a string.
#[derive(Debug)]
pub(crate) struct Panicked(#[allow(dead_code)] pub String);

/// Run `f`, turning a panic into `Err(Panicked)` without printing it.
pub(crate) fn run<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    install_hook();
    QUIET.with(|q| q.set(q.get() + 1));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(q.get() - 1));
    r.map_err(|payload| {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic".to_string()
        };
        Panicked(msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors() {
        let r: Result<(), _> = run(|| panic!("boom {}", 1));
        assert_eq!(r.unwrap_err().0, "boom 1");
        assert_eq!(run(|| 5).unwrap(), 5);
        // nested
        let r = run(|| run(|| -> u8 { panic!("inner") }).is_err());
        assert!(r.unwrap());
    }
}

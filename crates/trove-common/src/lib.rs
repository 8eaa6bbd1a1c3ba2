//! Small, dependency-light helpers shared by every Trove crate (CLI, app, engine, fetcher,
//! extractors), so that one thing is written one way everywhere:
//!
//! * [`size::human_size`]: byte counts for people ("1.5 MB"), one unit convention for the
//!   CLI, error messages and the UI;
//! * [`duration::human_duration`]: durations for people ("3 s", "2 min");
//! * [`url::normalize_url`]: the one normalisation of links (adding, crawling,
//!   de-duplicating).
//! * [`thousands`]: counts for people ("3,200 of 4,000 passages");
//! * [`cpu`]: what the processor can run, for the hand-written kernels.

pub mod cpu;
pub mod duration;
pub mod size;
pub mod url;

/// `1234567` → `"1,234,567"`: counts in messages.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod thousands_tests {
    #[test]
    fn groups_by_three() {
        assert_eq!(super::thousands(10_000_000), "10,000,000");
        assert_eq!(super::thousands(3200), "3,200");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(0), "0");
    }
}

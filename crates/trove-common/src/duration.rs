//! Durations for people.

use std::time::Duration;

/// "250 ms", "1.5 s", "30 s", "2 min", "2 min 30 s", "1 h 5 min", "3 days 4 h".
///
/// Under a second: milliseconds. Under a minute: seconds, with one decimal when the
/// duration is not whole (and below 10 s). From a minute on, the two largest non-zero
/// parts of `humantime`'s breakdown (rounded to whole seconds), with the units spelled
/// so that the text reads naturally in a sentence.
// `is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
#[allow(clippy::manual_is_multiple_of)]
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0 s".to_owned();
    }
    if ms < 1000 {
        return format!("{ms} ms");
    }
    if ms < 10_000 && ms % 1000 != 0 {
        let tenths = (ms + 50) / 100;
        return if tenths % 10 == 0 {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        };
    }
    let secs = d.as_secs() + u64::from(d.subsec_millis() >= 500);
    if secs < 60 {
        return format!("{secs} s");
    }
    // humantime writes e.g. "1year 2months 3days 4h 5m 6s": number and unit glued,
    // largest first, only non-zero parts.
    let parts = humantime::format_duration(Duration::from_secs(secs)).to_string();
    parts
        .split(' ')
        .take(2)
        .map(|part| {
            let split = part
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(part.len());
            let (n, unit) = part.split_at(split);
            let unit = if unit == "m" { "min" } else { unit };
            format!("{n} {unit}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> String {
        human_duration(Duration::from_secs(secs))
    }

    #[test]
    fn short_durations() {
        assert_eq!(human_duration(Duration::ZERO), "0 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_millis(2990)), "3 s");
        assert_eq!(human_duration(Duration::from_millis(12_400)), "12 s");
        assert_eq!(s(1), "1 s");
        assert_eq!(s(3), "3 s");
        assert_eq!(s(30), "30 s");
        assert_eq!(s(59), "59 s");
    }

    #[test]
    fn long_durations_keep_two_parts() {
        assert_eq!(s(60), "1 min");
        assert_eq!(s(120), "2 min");
        assert_eq!(s(150), "2 min 30 s");
        assert_eq!(s(3600), "1 h");
        assert_eq!(s(3600 + 5 * 60 + 7), "1 h 5 min");
        assert_eq!(s(86_400), "1 day");
        assert_eq!(s(3 * 86_400 + 4 * 3600), "3 days 4 h");
    }
}

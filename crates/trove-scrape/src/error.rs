use std::time::Duration;

/// How the engine should treat a failed fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Trying again will not help (404, unsupported content, robots.txt, …).
    Permanent,
    /// Worth retrying later with back-off (timeouts, 5xx, connection errors).
    Transient,
    /// The server asked to come back after this long (429/503 `Retry-After`).
    RetryAfter(Duration),
}

/// A fetch failure. `Display` is the message: one sentence a person understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScrapeError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ScrapeError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Permanent,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Transient,
            message: message.into(),
        }
    }

    pub fn retry_after(after: Duration, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::RetryAfter(after),
            message: message.into(),
        }
    }

    /// True for [`ErrorKind::Transient`] and [`ErrorKind::RetryAfter`].
    pub fn is_retryable(&self) -> bool {
        !matches!(self.kind, ErrorKind::Permanent)
    }
}

/// "30 s", "1.5 s", "250 ms".
// `is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
#[allow(clippy::manual_is_multiple_of)]
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// "20 MB", "512 KB", "900 bytes" (binary units, as people read them).
// `is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
#[allow(clippy::manual_is_multiple_of)]
pub(crate) fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{} MB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MB", n as f64 / MIB as f64)
    } else if n >= KIB && n % KIB == 0 {
        format!("{} KB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(30)), "30 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_bytes(20 * 1024 * 1024), "20 MB");
        assert_eq!(human_bytes(512 * 1024), "512 KB");
        assert_eq!(human_bytes(900), "900 bytes");
    }

    #[test]
    fn display_is_the_message() {
        let e = ScrapeError::permanent("server answered 404 Not Found");
        assert_eq!(e.to_string(), "server answered 404 Not Found");
        assert!(!e.is_retryable());
        assert!(ScrapeError::transient("x").is_retryable());
    }
}

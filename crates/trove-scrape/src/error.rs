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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message() {
        let e = ScrapeError::permanent("server answered 404 Not Found");
        assert_eq!(e.to_string(), "server answered 404 Not Found");
        assert!(!e.is_retryable());
        assert!(ScrapeError::transient("x").is_retryable());
    }
}

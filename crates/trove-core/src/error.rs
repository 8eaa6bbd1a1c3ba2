use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the engine's own operations (not of a job: see [`crate::JobError`]).
#[derive(Debug, Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "this database was written by a newer version of Trove (schema {found}; this build knows up to {known}); \
         update Trove, or open another database with --db"
    )]
    NewerSchema { found: u32, known: u32 },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: u32,
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("no item {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The embedding model or service failed (not the user's input).
    #[error("{0}")]
    Embed(String),
    /// A bug in Trove: a crashed task, a broken invariant. Never bad input.
    #[error("Trove hit an internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A stable machine-readable code for the UI (`{code, message}`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Sql(_) => "database",
            Error::NewerSchema { .. } => "newer_schema",
            Error::Migration { .. } => "migration",
            Error::NotFound(_) => "not_found",
            Error::Invalid(_) => "invalid",
            Error::Conflict(_) => "conflict",
            Error::Io(_) => "io",
            Error::Embed(_) => "embed",
            Error::Internal(_) => "internal",
        }
    }

    /// Every code [`Error::code`] can return (the UI's bindings are generated from this).
    pub const CODES: &'static [&'static str] = &[
        "database",
        "newer_schema",
        "migration",
        "not_found",
        "invalid",
        "conflict",
        "io",
        "embed",
        "internal",
    ];
}

/// How a job attempt ended badly. `message` is a sentence for a person; it becomes the
/// item's `processing_error`.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct JobError {
    pub message: String,
    pub retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retrying cannot help (unsupported type, encrypted PDF, 404): fail at once.
    Never,
    /// Might work later (timeout, 5xx, locked database): retry with backoff.
    Backoff,
    /// The other side said when (429/503 Retry-After): retry no sooner than this many ms.
    After(u64),
    /// Not the item's fault (the database's disk is full, its file read-only, an I/O
    /// error): try again shortly without counting an attempt.
    Postpone,
}

impl JobError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry: Retry::Never,
        }
    }
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry: Retry::Backoff,
        }
    }
    pub fn retry_after(message: impl Into<String>, ms: u64) -> Self {
        Self {
            message: message.into(),
            retry: Retry::After(ms),
        }
    }
}

impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        match &e {
            Error::Sql(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                JobError::transient("the database was busy; will retry")
            }
            // The database's surroundings, not the item: retry once the disk has room,
            // the file is writable again, the I/O error has passed.
            Error::Sql(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::SystemIoFailure
                        | rusqlite::ErrorCode::CannotOpen
                ) =>
            {
                JobError {
                    message: format!("Trove could not write to its database ({e}); will retry"),
                    retry: Retry::Postpone,
                }
            }
            Error::Io(_) | Error::Embed(_) => JobError::transient(e.to_string()),
            _ => JobError::permanent(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    /// A full disk, a read-only file or an I/O error is the database's surroundings, not
    /// the item: the job is postponed without counting an attempt. Busy: retried.
    #[test]
    fn database_surroundings_are_transient_for_a_job() {
        use super::{JobError, Retry};
        for (code, retry) in [
            (rusqlite::ffi::SQLITE_FULL, Retry::Postpone),
            (rusqlite::ffi::SQLITE_READONLY, Retry::Postpone),
            (rusqlite::ffi::SQLITE_IOERR, Retry::Postpone),
            (rusqlite::ffi::SQLITE_BUSY, Retry::Backoff),
        ] {
            let e = Error::Sql(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ));
            let j = JobError::from(e);
            assert_eq!(j.retry, retry, "{code}: {j}");
        }
        let other = JobError::from(Error::Invalid("bad".into()));
        assert_eq!(other.retry, Retry::Never);
    }

    /// `CODES` is a hand-kept list beside `code()`: every variant's code must be in it,
    /// and it lists nothing else (the UI's bindings are generated from it).
    #[test]
    fn codes_list_matches_every_variant() {
        let all = [
            Error::Sql(rusqlite::Error::InvalidQuery),
            Error::NewerSchema { found: 9, known: 8 },
            Error::Migration {
                version: 1,
                name: "x",
                source: rusqlite::Error::InvalidQuery,
            },
            Error::NotFound("f1".into()),
            Error::Invalid("x".into()),
            Error::Conflict("x".into()),
            Error::Io(std::io::Error::other("x")),
            Error::Embed("x".into()),
            Error::Internal("x".into()),
        ];
        let mut codes: Vec<&str> = all.iter().map(Error::code).collect();
        codes.sort_unstable();
        let mut listed = Error::CODES.to_vec();
        listed.sort_unstable();
        assert_eq!(codes, listed);
    }
}

-- The durable job queue (Bull's semantics on SQLite). Times are Unix milliseconds.
CREATE TABLE jobs (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    item_table    TEXT    NOT NULL CHECK (item_table IN ('knowledge_files', 'scraped_contents')),
    item_id       INTEGER NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'waiting'
                  CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 3,
    stalls        INTEGER NOT NULL DEFAULT 0,
    run_after     INTEGER NOT NULL,
    locked_until  INTEGER,
    lease_token   TEXT,
    worker        TEXT,
    progress      INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    stage         TEXT,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER
);
-- Claim order: due jobs only.
CREATE INDEX idx_jobs_due ON jobs (run_after, created_at) WHERE state IN ('waiting', 'delayed');
-- The lease sweep.
CREATE INDEX idx_jobs_active ON jobs (locked_until) WHERE state = 'active';
CREATE INDEX idx_jobs_item ON jobs (item_table, item_id);

-- Key/value settings shared by every process on this database (pause, concurrency).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Append-only change log: in-process and cross-process subscribers (`trove watch`, the app)
-- tail it by seq. Pruned by the worker.
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    item      TEXT,
    status    TEXT,
    progress  INTEGER,
    stage     TEXT,
    message   TEXT
);

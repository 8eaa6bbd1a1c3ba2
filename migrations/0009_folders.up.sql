-- Watched folders: a folder kept in sync with the files on disk. Its files are ordinary
-- knowledge_files rows (status, job_id, processing_error as ever) that name their folder;
-- `mtime_ms` (with `size`) is the version a scan last saw, so a rescan of unchanged files
-- reads nothing.
CREATE TABLE watched_folders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    path          TEXT    NOT NULL,
    path_bytes    BLOB,                            -- as knowledge_files.path_bytes
    include_globs TEXT    NOT NULL DEFAULT '[]',   -- JSON array of globs
    exclude_globs TEXT    NOT NULL DEFAULT '[]',
    watching      INTEGER NOT NULL DEFAULT 1,      -- 0: paused by the user
    state         TEXT    NOT NULL DEFAULT 'ok',   -- ok | unavailable | polling
    message       TEXT,                            -- why not ok; folders that could not be read
    files         INTEGER NOT NULL DEFAULT 0,
    skipped       TEXT    NOT NULL DEFAULT '{}',   -- {"images": 214, ...}
    last_scan_at  INTEGER,                         -- ms since the epoch
    last_scan_ms  INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX idx_watched_folders_path ON watched_folders (path, COALESCE(path_bytes, x''));

ALTER TABLE knowledge_files ADD COLUMN folder_id INTEGER;
ALTER TABLE knowledge_files ADD COLUMN mtime_ms INTEGER;
CREATE INDEX idx_knowledge_files_folder ON knowledge_files (folder_id);
